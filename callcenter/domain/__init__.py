"""Pure domain logic: no I/O, no asyncio, no framework imports; time is always a parameter."""
