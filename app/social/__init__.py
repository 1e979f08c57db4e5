"""Customers on X, Facebook and Instagram: signed webhook deliveries stored in the inbox before the 200
the platform waits for, then taken by the intake, each sender's events in order, to the flows."""
