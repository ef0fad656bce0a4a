"""Broadcasts: the durable outbox, its paced sender and the shared rate limiter."""
