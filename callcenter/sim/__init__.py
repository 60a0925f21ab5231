"""PBX simulator: plays Asterisk 22 over the real protocols (AMI server, FastAGI client).

The public API lives in `callcenter.sim.simulator` (Simulator, CallHandle, Summary),
`callcenter.sim.callers` (CallerScript, KeyPress), `callcenter.sim.parties` (Operator,
CalledParty, Duration) and `callcenter.sim.scenarios` (load_scenario, Scenario).
"""
