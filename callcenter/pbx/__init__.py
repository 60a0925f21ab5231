"""The PBX's language, without I/O: AMI frames and their codec, action results, AMI events
decoded into domain telephony events, AGI errors and environment, channel variables.

Shared by the Asterisk adapter (`callcenter.asterisk`: sockets, clients, servers), the
simulator (`callcenter.sim`) and the use cases, which may read these value types but never
open a connection themselves.
"""
