"""What happens to a message once it is stored, across the domains it passes through: the flows sit
above the domains they drive, so no domain imports another to call it back."""
