"""Asterisk adapter: AMI client, FastAGI server, frame codec, event parsing."""
