"""What happens to a customer's message: the channel stores it through `customer_message`, then the
bot answers it, or the router takes over.

One worker per conversation handles its unhandled messages strictly in order; the work to do is read
from the database each time, so a restart simply picks up where the last process stopped.
"""

import asyncio
import logging
import uuid
from collections.abc import Callable, Sequence
from typing import TypeVar

from anyio import CapacityLimiter
from sqlmodel import Session

from app.assignment import service as assignment
from app.assignment.service import Outcome
from app.assistant import turns
from app.assistant.rasa_client import BotUnavailable, RasaClient
from app.conversations import messages, ownership, resolution
from app.conversations import service as conversations
from app.conversations.language import detect
from app.conversations.models import Conversation, Message, Owner
from app.conversations.wire import StoredMessage, message_event, publish_message, store_message_event
from app.core.channel_names import PLATFORM_CHANNELS
from app.core.db import SessionFactory, run_in_session
from app.core.timestamps import utcnow
from app.flows.assignment import AssignmentFlows
from app.kb.live import LiveIndex
from app.people import service as people
from app.privacy.masking import for_the_bot
from app.realtime import feed
from app.realtime.hub import Hub
from app.realtime.models import Numbered

log = logging.getLogger(__name__)

RETRY_SECONDS = 5.0
T = TypeVar("T")


class ConversationFlows:
    def __init__(
        self,
        *,
        open_session: SessionFactory,
        bot: RasaClient,
        knowledge: LiveIndex,
        direct_answer_threshold: float,
        hub: Hub,
        assignment: AssignmentFlows,
        outbound_queued: Callable[[], None],
        limiter: CapacityLimiter | None = None,
    ) -> None:
        self._open_session = open_session
        self.bot = bot
        self._knowledge = knowledge
        self._direct_answer_threshold = direct_answer_threshold
        self._hub = hub
        self._assignment = assignment
        self._workers: dict[uuid.UUID, asyncio.Task[None]] = {}
        self._again: set[uuid.UUID] = set()
        # Conversations a person just resolved: the bot is told before it hears the next message.
        self._handed_back: set[uuid.UUID] = set()
        # Wakes the outbox sender, which is built first: it needs nothing of the flows.
        self._outbound_queued = outbound_queued
        # The threads the bot's turns run their database work on (see app/services.Lane).
        self._limiter = limiter

    def _publish(self, stored: StoredMessage) -> None:
        publish_message(self._hub, stored)
        if stored.conversation.channel in PLATFORM_CHANNELS:
            # A reply to a platform was queued in the same transaction: have it sent now.
            self._outbound_queued()

    async def customer_message(
        self,
        store: Callable[[Session], tuple[T, Sequence[tuple[Conversation, Message]]]],
        limiter: CapacityLimiter | None = None,
    ) -> tuple[T, bool]:
        """A customer said something. `store` stores it as its channel has it (checked against the
        channel's limits, once per client or platform id, masked where it was said in public) and
        returns its answer with the messages it added; their events are kept in the owning agent's
        feed in the same transaction. Once it commits, each is delivered live and handed on: to this
        conversation's worker, which asks the bot in order, unless a person owns the conversation.
        Returns the answer, and whether anything was added (nothing, for a repeat)."""

        def store_with_events(session: Session) -> tuple[T, list[StoredMessage]]:
            answer, added = store(session)
            return answer, [store_message_event(session, conversation, message) for conversation, message in added]

        answer, stored = await run_in_session(self._open_session, store_with_events, limiter)
        for message in stored:
            self._hand_on(message)
        return answer, bool(stored)

    def _hand_on(self, stored: StoredMessage) -> None:
        """Deliver a new customer message live, and have it handled if the bot owns the conversation."""
        self._publish(stored)
        if stored.message.handled_at is None:
            self.wake(stored.conversation.id)

    def wake(self, conversation_id: uuid.UUID) -> None:
        if conversation_id in self._workers:
            self._again.add(conversation_id)
            return
        task = asyncio.create_task(self._work(conversation_id))
        self._workers[conversation_id] = task
        task.add_done_callback(lambda _: self._finished(conversation_id))

    def _finished(self, conversation_id: uuid.UUID) -> None:
        self._workers.pop(conversation_id, None)
        if conversation_id in self._again:
            self._again.discard(conversation_id)
            self.wake(conversation_id)

    async def recover(self) -> int:
        """Handle the messages a previous process stored but never finished with."""
        pending = await run_in_session(
            self._open_session, lambda session: messages.with_unhandled_messages(session=session)
        )
        for conversation_id in pending:
            self.wake(conversation_id)
        return len(pending)

    async def stop(self) -> None:
        tasks = list(self._workers.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _work(self, conversation_id: uuid.UUID) -> None:
        if conversation_id in self._handed_back:
            self._handed_back.discard(conversation_id)
            try:
                await self._resume_bot(conversation_id)
            except Exception:
                # Only the rating question is lost; the customer's messages are still handled below.
                log.exception("event=bot_resume_failed conversation=%s", conversation_id)
        while True:
            message, conversation = await run_in_session(
                self._open_session,
                lambda session: (
                    messages.next_unhandled(session=session, conversation_id=conversation_id),
                    conversations.get(session=session, conversation_id=conversation_id),
                ),
                self._limiter,
            )
            if message is None:
                return
            try:
                await self._handle(conversation, message)
            except Exception:
                # The message stays unhandled, so nothing is lost; try again shortly.
                log.exception("event=message_handling_failed conversation=%s seq=%d", conversation_id, message.seq)
                asyncio.get_running_loop().call_later(RETRY_SECONDS, self.wake, conversation_id)
                return

    async def _handle(self, conversation: Conversation, message: Message) -> None:
        assert message.id is not None
        if conversation.owner == Owner.bot:
            turn = await self._ask_bot(conversation, message)
        else:
            # A person has the conversation: the bot is not even asked.
            turn = turns.BotTurn()
        await self._record(conversation.id, message.id, turn)

    async def _record(self, conversation_id: uuid.UUID, message_id: int | None, turn: turns.BotTurn) -> None:
        """Store what the bot said (for a customer message, or unprompted) and route a handoff."""

        def record(session: Session) -> tuple[turns.RecordedTurn, list[StoredMessage], Outcome]:
            recorded = turns.record(session=session, conversation_id=conversation_id, message_id=message_id, turn=turn)
            stored = [store_message_event(session, recorded.conversation, message) for message in recorded.stored]
            if not recorded.handed_off:
                return recorded, stored, Outcome()
            now = utcnow()
            language = self._language_of(session, recorded.said)
            work = assignment.work_for_handoff(
                recorded.conversation, turn.handoff or {}, now, self._assignment.sla, language
            )
            outcome = assignment.enqueue(session=session, policy=self._assignment.policy, work=work, now=now)
            return recorded, stored, assignment.store_in_feeds(session, outcome)

        # A handoff changes the routing state, so it goes through the routing writer; a plain answer does not.
        if turn.handoff is not None:
            recorded, stored, outcome = await self._assignment.submit(record)
        else:
            recorded, stored, outcome = await run_in_session(self._open_session, record, self._limiter)
        for message in stored:
            self._publish(message)
        if recorded.handed_off:
            log.info("event=handoff conversation=%s reason=%s", conversation_id, (turn.handoff or {}).get("reason"))
        self._assignment.publish(outcome)

    def _language_of(self, session: Session, said: list[str]) -> str:
        """The language of what the customer `said`, if someone on the team speaks it: else waiting
        for a speaker who does not exist would only delay the case until the fallback team takes it."""
        default = self._assignment.default_language
        detected = detect(said)
        if detected is None or detected == default:
            return default
        return detected if detected in people.languages_spoken(session=session) else default

    async def _ask_bot(self, conversation: Conversation, message: Message) -> turns.BotTurn:
        try:
            outputs = await self.bot.send(
                str(conversation.id), for_the_bot(message.text), metadata={"channel": conversation.channel}
            )
        except BotUnavailable as exc:
            log.warning(
                "event=bot_unavailable conversation=%s error=%s circuit=%s",
                conversation.id,
                type(exc.__cause__ or exc).__name__,
                self.bot.breaker.state,
            )
            matches = await self._knowledge.search(message.text, 3)
            return turns.without_bot(matches, self._direct_answer_threshold, str(exc))
        return turns.interpret(outputs)

    async def _resume_bot(self, conversation_id: uuid.UUID) -> None:
        """The bot has the conversation again: tell Rasa, which goes on from its tracker (asking for a
        satisfaction rating). Without Rasa the conversation simply goes on without the question."""
        try:
            outputs = await self.bot.trigger(str(conversation_id), "EXTERNAL_agent_resolved")
        except BotUnavailable as exc:
            log.warning("event=bot_not_told_of_resolve conversation=%s error=%s", conversation_id, exc)
            return
        await self._record(conversation_id, None, turns.interpret(outputs))

    async def agent_reply(
        self, agent_id: int, conversation_id: uuid.UUID, text: str, client_message_id: str | None, note: bool = False
    ) -> Message:
        """Store and deliver an agent's reply (or private note); refused unless the agent owns the conversation."""

        def store(session: Session) -> tuple[Message, StoredMessage | None]:
            message, created = messages.add_agent_message(
                session=session,
                conversation_id=conversation_id,
                agent_id=agent_id,
                text=text,
                client_message_id=client_message_id,
                note=note,
            )
            if not created:
                return message, None
            conversation = conversations.get(session=session, conversation_id=conversation_id)
            return message, store_message_event(session, conversation, message)

        message, stored = await run_in_session(self._open_session, store)
        if stored is not None:
            self._publish(stored)
        return message

    async def agent_resolve(self, agent_id: int, conversation_id: uuid.UUID) -> Message:
        """Close the case, tell both sides, and free the agent's slot for waiting work."""
        event = await self._leave_to_bot(agent_id, conversation_id, resolution.resolve)
        self._handed_back.add(conversation_id)
        self.wake(conversation_id)
        return event

    async def agent_hand_back(self, agent_id: int, conversation_id: uuid.UUID) -> Message:
        """The bot answers again from the customer's next message; the agent's slot is freed."""
        return await self._leave_to_bot(agent_id, conversation_id, resolution.hand_back)

    async def _leave_to_bot(self, agent_id: int, conversation_id: uuid.UUID, leave: Callable[..., Message]) -> Message:
        def change(session: Session) -> tuple[Message, Numbered, Outcome]:
            event = leave(session=session, conversation_id=conversation_id, agent_id=agent_id)
            policy = self._assignment.policy
            released = assignment.release(session=session, policy=policy, conversation_id=conversation_id, now=utcnow())
            # The agent hears of it although the conversation is no longer theirs.
            told = feed.number_and_store(session, [(agent_id, message_event(event))])
            return event, told, assignment.store_in_feeds(session, released)

        event, told, outcome = await self._assignment.submit(change)
        self._hub.to_conversation(conversation_id, message_event(event))
        self._hub.to_agents(told)
        self._assignment.publish(outcome)
        return event

    async def agent_typing(self, agent_id: int, conversation_id: uuid.UUID, typing: bool) -> None:
        """Show the customer that the agent is typing; nothing is stored."""
        await run_in_session(
            self._open_session,
            lambda s: ownership.owned_by_agent(session=s, conversation_id=conversation_id, agent_id=agent_id),
        )
        self._hub.to_conversation(conversation_id, {"type": "typing", "author": "agent", "typing": typing})

    async def customer_typing(self, conversation_id: uuid.UUID, typing: bool) -> None:
        """Show the owning agent that the customer is typing; nothing is stored, nor numbered in the feed."""
        conversation = await run_in_session(
            self._open_session, lambda s: conversations.get(session=s, conversation_id=conversation_id)
        )
        if conversation.owner == Owner.agent and conversation.agent_id is not None:
            event = {"type": "typing", "conversation_id": str(conversation_id), "author": "customer", "typing": typing}
            self._hub.to_agent_now(conversation.agent_id, event)
