"""The process roles sharing one PostgreSQL: telephony nodes publish their live picture and
take requests; API nodes merge the pictures and send requests. Tables for state,
LISTEN/NOTIFY for wake-ups, nothing else in between."""
