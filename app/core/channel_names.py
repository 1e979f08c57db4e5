"""The names of the channels and platforms, which every layer speaks of: the people's capacities,
the customers' identities, the router's work, the outbox's rules. They live below every domain so
that any of them can name a channel without importing the one that serves it."""

# The platforms that deliver through webhooks, and name their customers' identities.
META = "meta"
X = "x"

# Conversation channels. A public channel's replies are seen by everybody.
WEBCHAT = "webchat"
MESSENGER = "messenger"
INSTAGRAM = "instagram"
FACEBOOK_COMMENT = "facebook_comment"
INSTAGRAM_COMMENT = "instagram_comment"
X_DM = "x_dm"
X_MENTION = "x_mention"
PUBLIC_CHANNELS = frozenset({FACEBOOK_COMMENT, INSTAGRAM_COMMENT, X_MENTION})
PLATFORM_CHANNELS = frozenset({MESSENGER, INSTAGRAM, X_DM}) | PUBLIC_CHANNELS
CHANNELS = frozenset({WEBCHAT, *PLATFORM_CHANNELS})
# Where a public channel's customer is taken to talk in private.
PRIVATE_OF = {FACEBOOK_COMMENT: MESSENGER, INSTAGRAM_COMMENT: INSTAGRAM, X_MENTION: X_DM}
