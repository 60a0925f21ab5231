"""Ports shared by every context (the shared kernel): the PBX link, the stores and their
records, the AGI channel. A context's use cases depend on these Protocols; adapters
(`callcenter.db`, `callcenter.asterisk`, the simulator) implement them.
"""
