"""The shipped Asterisk configuration (asterisk_conf/) holds together the way Asterisk reads it.

Every context, queue, label, Gosub and AGI script the dialplan names exists; every value a
caller or another system controls goes through FILTER() with a fitting character set; AMI is
loopback-only with no committed secret; the modules the dialplan needs are loaded.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from callcenter.config import Settings
from callcenter.pbx import channel_vars
from tests.adapters.asterisk.test_asterisk_conf_parser import (
    ConfFile,
    Context,
    Step,
    expand_filter_set,
    exten_matches,
    parse_conf,
    parse_dialplan,
    split_app,
)
from tests.support.paths import REPO_ROOT

CONF_DIR = REPO_ROOT / "asterisk_conf"
# the routes the platform's FastAGI server serves (see callcenter/bootstrap.py)
AGI_SCRIPTS = {"ivr", "dialer", "acd-join", "acd-wait", "acd-callback"}
QUEUES = {"line1", "line2", "line3", "branch-overflow"}
PLACEHOLDER = re.compile(r"^@@[A-Z0-9_]+@@$")

# Options app_queue (Asterisk 22, queue_set_param) knows; anything else is a typo it warns about.
QUEUE_OPTIONS = {
    "announce", "announce-frequency", "announce-holdtime", "announce-position",
    "announce-position-limit", "announce-position-only-up", "announce-round-seconds",
    "announce-to-first-user", "autofill", "autopause", "autopausebusy", "autopausedelay",
    "autopauseunavail", "context", "defaultrule", "joinempty", "leavewhenempty",
    "log-restricted-caller-id", "maxlen", "memberdelay", "membergosub",
    "min-announce-frequency", "music", "musicclass", "musiconhold",
    "penaltymemberslimit", "periodic-announce", "periodic-announce-frequency",
    "periodic-announce-startdelay", "queue-callerannounce", "queue-callswaiting",
    "queue-holdtime", "queue-minute", "queue-minutes", "queue-reporthold", "queue-seconds",
    "queue-thankyou", "queue-thereare", "queue-youarenext", "random-periodic-announce",
    "relative-periodic-announce", "reportholdtime", "retry", "ringinuse", "servicelevel",
    "setinterfacevar", "setqueueentryvar", "setqueuevar", "strategy", "timeout",
    "timeoutpriority", "timeoutrestart", "weight", "wrapuptime",
}  # fmt: skip
QUEUE_STRATEGIES = {
    "ringall", "leastrecent", "fewestcalls", "random", "rrmemory", "rrordered", "linear",
    "wrandom",
}  # fmt: skip
EMPTY_CONDITIONS = {
    "paused", "penalty", "inuse", "ringing", "invalid", "wrapup", "unavailable", "unknown",
    "loose", "strict", "yes", "no",
}  # fmt: skip

# The module each application and function the dialplan uses comes from: a new one must be
# added here, which makes us check it is not `noload`ed.
APP_MODULES = {
    "AGI": "res_agi", "AMD": "app_amd", "Answer": "pbx", "ChanSpy": "app_chanspy",
    "ConfBridge": "app_confbridge", "Dial": "app_dial", "ExecIf": "app_exec",
    "Gosub": "app_stack", "GotoIf": "pbx", "Goto": "pbx", "Hangup": "pbx",
    "MixMonitor": "app_mixmonitor", "MusicOnHold": "res_musiconhold", "NoOp": "pbx",
    "Playback": "app_playback",
    "Queue": "app_queue", "Return": "app_stack", "Set": "pbx", "VoiceMail": "app_voicemail",
}  # fmt: skip
FUNCTION_MODULES = {
    "CALLERID": "func_callerid", "CHANNEL": "func_channel", "DIALPLAN_EXISTS": "func_dialplan",
    "FILTER": "func_strings", "GLOBAL": "func_global", "IFMODULE": "func_module",
    "LEN": "func_strings", "MD5": "func_md5", "RAND": "func_rand", "STAT": "func_env",
    "STRFTIME": "func_strings", "UUID": "func_uuid",
}  # fmt: skip

# Values a caller or another system controls, and the characters FILTER() may let through.
DIGITS = set("0123456789")
HEX_UUID = set("0123456789abcdefABCDEF-")
QUEUE_NAME = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")
DIALPLAN_SPECIAL = set(",()[]{}$\"'\\;|^`=<>&!?:*#") | {chr(c) for c in range(32)}
CONTROLLED: dict[str, set[str] | None] = {
    "CALLERID(num)": DIGITS | {"+"},
    "CALLERID(name)": None,  # anything but dialplan syntax (checked separately)
    "CALLERID(all)": set(),
    "CALLERID(ani)": set(),
    "CALLERID(rdnis)": set(),
    "CONNECTEDLINE(": set(),
    "REDIRECTING(": set(),
    "CALLERIDNUM": set(),
    "CALLERIDNAME": set(),
    channel_vars.IVR_TARGET: QUEUE_NAME,
    channel_vars.IVR_PRIORITY: DIGITS,
    channel_vars.CUSTOMER_ID: DIGITS,
    channel_vars.IVR_PATH: set(),  # the platform reads it; the dialplan has no use for it
    channel_vars.IVR_CLOSED: {"0", "1"},
    channel_vars.IVR_FAILOVER: {"0", "1"},
    channel_vars.CALL_UUID: HEX_UUID,
}  # an empty set: must not be used at all


def _conf(name: str) -> ConfFile:
    return parse_conf((CONF_DIR / name).read_text(encoding="utf-8"), name=name)


@pytest.fixture(scope="module")
def extensions() -> ConfFile:
    return _conf("extensions.conf")


@pytest.fixture(scope="module")
def dialplan(extensions: ConfFile) -> dict[str, Context]:
    return parse_dialplan(extensions)


@pytest.fixture(scope="module")
def globals_(extensions: ConfFile) -> dict[str, str]:
    return {s.key: s.value for s in extensions.section("globals").settings}


@pytest.fixture(scope="module")
def queues() -> ConfFile:
    return _conf("queues.conf")


def _queue_names(queues: ConfFile) -> set[str]:
    return {s.name for s in queues.real_sections()} - {"general"}


def _all_steps(dialplan: dict[str, Context]) -> Iterator[Step]:
    for ctx in dialplan.values():
        yield from ctx.steps()


def _applications(step: Step) -> Iterator[tuple[str, str]]:
    """The step's application, plus those ExecIf runs."""
    yield step.app, step.args
    if step.app == "ExecIf":
        _, _, branches = step.args.partition("?")
        for branch in _split_top(branches, ":"):
            yield split_app(branch)


def _split_top(text: str, sep: str) -> list[str]:
    """Split at `sep` outside parentheses and ${...}."""
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for ch in text:
        if ch in "({":
            depth += 1
        elif ch in ")}":
            depth -= 1
        if ch == sep and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return parts


def _expand_globals(text: str, globals_: dict[str, str]) -> str:
    return re.sub(r"\$\{GLOBAL\(([A-Z_]+)\)\}", lambda m: globals_[m.group(1)], text)


def _targets(step: Step, globals_: dict[str, str]) -> Iterator[tuple[str, str, str]]:
    """(context, exten, priority-or-label) of every jump the step can make."""
    specs: list[str] = []
    for app, args in _applications(step):
        if app in {"Goto", "Gosub"}:
            specs.append(args)
        elif app == "GotoIf":
            _, _, branches = args.partition("?")
            specs.extend(b for b in _split_top(branches, ":") if b)
        elif app == "Dial":
            specs.extend(m.replace("^", ",") for m in re.findall(r"\bb\(([^)]*)\)", args))
    for spec in specs:
        parts = [p.strip() for p in _split_top(_expand_globals(spec, globals_), ",")]
        parts[-1] = re.sub(r"\(.*\)$", "", parts[-1])  # Gosub(ctx,exten,1(args))
        if len(parts) == 1:
            yield step.context, step.exten, parts[0]
        elif len(parts) == 2:
            yield step.context, parts[0], parts[1]
        else:
            yield parts[0], parts[1], parts[2]


def _find_exten(dialplan: dict[str, Context], context: str, dialled: str) -> list[Step] | None:
    ctx = dialplan[context]
    for exten, steps in ctx.extens.items():
        if exten_matches(exten, dialled):
            return steps
    for included in ctx.includes:
        found = _find_exten(dialplan, included, dialled)
        if found is not None:
            return found
    return None


# --- structure ------------------------------------------------------------------------


def test_every_shipped_file_parses() -> None:
    names = sorted(p.name for p in CONF_DIR.glob("*.conf"))
    for name in names:
        _conf(name)
    required = {
        "modules.conf", "asterisk.conf", "manager.conf", "extensions.conf", "queues.conf",
        "musiconhold.conf", "voicemail.conf", "confbridge.conf", "amd.conf", "features.conf",
        "logger.conf", "pjsip.conf", "rtp.conf",
    }  # fmt: skip
    assert required <= set(names)


def test_every_jump_lands_on_an_existing_context_extension_and_label(
    dialplan: dict[str, Context], globals_: dict[str, str]
) -> None:
    problems = []
    for step in _all_steps(dialplan):
        for context, exten, where in _targets(step, globals_):
            at = f"line {step.line} ({step.app})"
            if context not in dialplan:
                problems.append(f"{at}: no context {context!r}")
                continue
            if "${" in exten:
                continue  # checked against the queues below
            steps = _find_exten(dialplan, context, exten)
            if steps is None:
                problems.append(f"{at}: no extension {exten!r} in {context!r}")
            elif where.isdigit():
                if int(where) not in {s.priority for s in steps}:
                    problems.append(f"{at}: no priority {where} at {context},{exten}")
            elif where not in {s.label for s in steps}:
                problems.append(f"{at}: no label {where!r} at {context},{exten}")
    assert problems == []


def test_every_include_names_a_context(dialplan: dict[str, Context]) -> None:
    missing = [
        (c.name, inc) for c in dialplan.values() for inc in c.includes if inc not in dialplan
    ]
    assert missing == []


def test_every_context_but_the_entry_points_is_reachable(
    dialplan: dict[str, Context], globals_: dict[str, str]
) -> None:
    # entered from outside: the trunk, phones, and the platform through AMI
    # acd-exit: entered from a queue when a waiting caller presses a key (queues.conf context);
    # hold: the platform Redirects a held caller there
    entry = {
        "from-trunk",
        "from-operators",
        "agents",
        "transfer",
        "dialer",
        "supervisor",
        "acd-exit",
        "hold",  # the platform Redirects a held caller there
    }
    reached = set(entry)
    for step in _all_steps(dialplan):
        reached.update(context for context, _, _ in _targets(step, globals_))
    for ctx in dialplan.values():
        reached.update(ctx.includes)
    assert set(dialplan) - reached == set()


def test_queue_names_in_the_dialplan_are_queues_and_every_queue_is_routable(
    dialplan: dict[str, Context], globals_: dict[str, str], queues: ConfFile
) -> None:
    defined = _queue_names(queues)
    assert defined == QUEUES
    named: set[str] = set()
    for step in _all_steps(dialplan):
        for app, args in _applications(step):
            args = _expand_globals(args, globals_)
            if app == "Queue" and "${" not in args.split(",")[0]:
                named.add(args.split(",")[0])
            set_var = re.fullmatch(r"(?:CC_QUEUE|CC_OVERFLOW)=(.*)", args) if app == "Set" else None
            if set_var and set_var.group(1) and "${" not in set_var.group(1):
                named.add(set_var.group(1))
    # the fail-over queue is the platform's CALLCENTER_AGI_FAILOVER_QUEUE (one source)
    assert globals_["CC_FAILOVER_QUEUE"] == "@@FAILOVER_QUEUE@@"
    named = {name for name in named if not PLACEHOLDER.match(name)}
    named |= {Settings().agi_failover_queue, globals_["CC_OVERFLOW_QUEUE"]}
    assert named <= defined
    # the IVR's target must match an `acd` extension, and each of those is one queue
    assert set(dialplan["acd"].extens) == defined
    for queue in defined:
        assert _find_exten(dialplan, "transfer", queue) is not None, queue


def test_queues_use_only_options_asterisk_knows(queues: ConfFile) -> None:
    for name in _queue_names(queues):
        settings = queues.resolved(name)
        assert {s.key for s in settings} <= QUEUE_OPTIONS, name
        assert not [s for s in settings if s.key == "member"], "operators are added over AMI"
        # app_queue reads the strategy as the first value found: exactly one per queue
        strategies = queues.values(name, "strategy")
        assert len(strategies) == 1, (name, strategies)
        assert strategies[0] in QUEUE_STRATEGIES
        for key in ("joinempty", "leavewhenempty"):
            value = queues.get(name, key) or "no"
            assert set(value.split(",")) <= EMPTY_CONDITIONS, (name, key, value)
        assert queues.get(name, "musicclass") == "default"
        for flag in ("setinterfacevar", "setqueuevar", "setqueueentryvar"):
            assert queues.get(name, flag) == "yes", (name, flag)
        assert queues.get(name, "ringinuse") == "no"
    assert queues.get("general", "persistentmembers") == "no"


def test_agi_routes_are_the_platforms_scripts(dialplan: dict[str, Context]) -> None:
    urls = [
        args for step in _all_steps(dialplan) for app, args in _applications(step) if app == "AGI"
    ]
    scripts = set()
    for url in urls:
        match = re.fullmatch(r"agi://@@AGI_HOST@@:@@AGI_PORT@@/([a-z-]+)", url)
        assert match, f"AGI must go to the platform's FastAGI server: {url}"
        scripts.add(match.group(1))
    assert scripts == AGI_SCRIPTS


def test_the_8800_call_is_answered_recorded_then_sent_to_the_ivr(
    dialplan: dict[str, Context],
) -> None:
    steps = dialplan["from-trunk"].extens["@@INBOUND_NUMBER@@"]
    calls = [f"{s.app}({s.args})" for s in steps]
    # the call's id is fixed first (instant, before answering), so the platform's call record
    # and the recording file carry the same UUID; then the call is answered at once
    assert calls[0] == "Gosub(sub-call-uuid,s,1)"
    answer = calls.index("Answer()")
    record = calls.index("Gosub(sub-record,s,1)")
    ivr = calls.index("Goto(inbound-ivr,s,1)")
    assert answer <= 2 < record < ivr
    mixmonitor = [s for s in dialplan["sub-record"].steps() if s.app == "MixMonitor"]
    assert [s.args for s in mixmonitor] == [
        "${GLOBAL(CC_RECORDINGS_DIR)}/${STRFTIME(${EPOCH},UTC,%Y/%m/%d)}/"
        "${FILTER(-0-9A-Fa-f,${CALL_UUID})}.wav"
    ]
    # every entry point records before doing anything else with the call
    for context, exten in (
        ("dialer", "amd"), ("outbound-dial", "s"), ("internal-dial", "s"), ("conference", "_9XX"),
    ):  # fmt: skip
        apps = [f"{s.app}({s.args})" for s in dialplan[context].extens[exten]]
        assert "Gosub(sub-record,s,1)" in apps[:3], (context, apps)


def test_a_campaign_call_is_recorded_once_on_its_answered_side(
    dialplan: dict[str, Context],
) -> None:
    """Issue 16, row 6: the dialer's Local/<number>@outbound half skips the recording that
    [dialer] makes under the call's id; an operator's own call records before dialling."""
    steps = dialplan["outbound-dial"].extens["s"]
    apps = [f"{s.app}({s.args})" for s in steps]
    assert apps[0] == 'GotoIf($["${FILTER(0-9,${CC_CAMPAIGN_ID})}" != ""]?dial)'
    dial = next(i for i, s in enumerate(steps) if s.app == "Dial")
    assert steps[dial].label == "dial"
    assert apps.index("Gosub(sub-record,s,1)") < dial


def test_the_ivr_falls_back_to_line1_when_the_platform_is_down(
    dialplan: dict[str, Context], globals_: dict[str, str]
) -> None:
    steps = dialplan["inbound-ivr"].extens["s"]
    by_label = {s.label: i for i, s in enumerate(steps) if s.label}
    agi = next(i for i, s in enumerate(steps) if s.app == "AGI")
    # the platform down: nothing sets IVR_TARGET, which was cleared before the AGI
    assert ("Set", "IVR_TARGET=") in [(s.app, s.args) for s in steps[:agi]]
    after = [(s.app, s.args) for s in steps[agi + 1 : by_label["failover"]]]
    assert ("GotoIf", '$["${CC_QUEUE}" = ""]?failover') in after
    # AGISTATUS=FAILURE also follows a prompt Asterisk could not play on a live channel:
    # what the IVR set decides, not AGISTATUS
    assert not any("AGISTATUS" in args and app == "GotoIf" for app, args in after)
    failover = steps[by_label["failover"] :]
    assert (failover[0].app, failover[0].args) == ("Set", "IVR_FAILOVER=1")
    assert any(s.args == "acd,${CC_QUEUE},1" for s in failover)
    queue_step = next(s for s in dialplan["acd-wait"].steps() if s.app == "Queue")
    assert queue_step.args.startswith("${CC_QUEUE},")
    prio = next(s for s in dialplan["acd-wait"].steps() if "QUEUE_PRIO" in s.args)
    assert "CC_PRIO" in prio.args  # the filtered IVR_PRIORITY, see the FILTER test


def test_queue_is_called_with_at_most_the_nine_arguments_of_asterisk_22(
    dialplan: dict[str, Context],
) -> None:
    # queuename,options,URL,announceoverride,timeout,AGI,gosub,rule,position (app_queue.c):
    # a 10th argument (the <= 20 macro slot) shifts position into a slot it is not read from
    calls = [s for c in dialplan.values() for s in c.steps() if s.app == "Queue"]
    assert calls
    for step in calls:
        assert len(step.args.split(",")) <= 9, step.args
    requeue = [s.args.split(",") for s in calls if "CC_POS" in s.args]
    assert requeue
    assert all(args[8] == "${CC_POS}" for args in requeue)


def test_the_dialer_runs_amd_before_its_fastagi_script(dialplan: dict[str, Context]) -> None:
    apps = [s.app for s in dialplan["dialer"].extens["amd"]]
    assert apps.index("AMD") < apps.index("AGI")


def test_queue_member_interfaces_of_the_agents_context_ring_the_operator(
    dialplan: dict[str, Context],
) -> None:
    steps = _find_exten(dialplan, "agents", "101")  # Local/101@agents/n
    assert steps is not None
    assert [s.args for s in steps if s.app == "Dial"] == ["PJSIP/${CC_PEER},,ti"]


# --- caller-controlled values ---------------------------------------------------------


def _uses(text: str, name: str) -> Iterator[int]:
    token = "${" + name
    start = 0
    while (at := text.find(token, start)) >= 0:
        after = text[at + len(token) : at + len(token) + 1]
        if name.endswith("(") or after in {"}", ":", "("}:
            yield at
        start = at + 1


def _filter_spec_before(text: str, at: int) -> str | None:
    match = re.search(r"FILTER\(([^,()]*),$", text[:at])
    return match.group(1) if match else None


def test_every_caller_controlled_value_goes_through_filter(dialplan: dict[str, Context]) -> None:
    problems = []
    for step in _all_steps(dialplan):
        text = step.args
        names = dict(CONTROLLED)
        if step.is_pattern:
            names["EXTEN"] = DIGITS | {"+", "*", "#"}  # digits a phone or trunk sent
        for name, allowed in names.items():
            for at in _uses(text, name):
                spec = _filter_spec_before(text, at)
                where = f"line {step.line}: ${{{name}...}}"
                if spec is None:
                    problems.append(f"{where} used without FILTER()")
                    continue
                kept = expand_filter_set(spec)
                if allowed is None:
                    if kept & DIALPLAN_SPECIAL:
                        problems.append(f"{where} keeps {sorted(kept & DIALPLAN_SPECIAL)}")
                elif not kept <= allowed:
                    problems.append(f"{where} keeps {sorted(kept - allowed)}")
    assert problems == []


def test_exten_of_literal_extensions_is_not_caller_controlled(dialplan: dict[str, Context]) -> None:
    # ${EXTEN} is only used where a pattern matched it, and there it is filtered (test above)
    literal_uses = [
        s.line for s in _all_steps(dialplan) if not s.is_pattern and "${EXTEN" in s.args
    ]
    assert literal_uses == []


# --- AMI, modules, music on hold --------------------------------------------------------


def test_ami_listens_on_loopback_and_lets_users_in_from_loopback_only() -> None:
    manager = _conf("manager.conf")
    assert manager.get("general", "enabled") == "yes"
    assert manager.get("general", "bindaddr") == "127.0.0.1"
    assert manager.get("general", "webenabled") == "no"
    users = [s for s in manager.real_sections() if s.name != "general"]
    assert [u.name for u in users] == ["@@AMI_USERNAME@@", "@@AMI_EVENTS_USERNAME@@"]
    for user in users:
        acl = [(s.key, s.value) for s in user.settings if s.key in {"deny", "permit", "acl"}]
        assert acl == [("deny", "0.0.0.0/0.0.0.0"), ("permit", "127.0.0.1/255.255.255.255")]


def test_ami_secrets_are_placeholders_and_write_classes_are_the_platforms() -> None:
    manager = _conf("manager.conf")
    actor = manager.section("@@AMI_USERNAME@@")
    reader = manager.section("@@AMI_EVENTS_USERNAME@@")
    for user in (actor, reader):
        secrets = [s.value for s in user.settings if s.key == "secret"]
        assert len(secrets) == 1, user.name
        assert PLACEHOLDER.match(secrets[0]), user.name
    write = manager.get(actor.name, "write") or ""
    assert set(write.split(",")) == {"originate", "call", "agent", "reporting"}
    assert manager.get(reader.name, "write") == ""
    for user in (actor, reader):
        read = set((manager.get(user.name, "read") or "").split(","))
        assert {"call", "agent"} <= read
        assert not read & {"all", "command", "config"}
    manager_text = (CONF_DIR / "manager.conf").read_text(encoding="utf-8")
    assert all(
        PLACEHOLDER.match(v) for v in re.findall(r"(?im)^\s*secret\s*=\s*(\S*)", manager_text)
    )
    mailboxes = _conf("voicemail.conf").section("callcenter").settings
    assert [m.value.split(",")[0] for m in mailboxes] == ["@@VOICEMAIL_PIN@@"]


def test_modules_load_everything_the_dialplan_uses(dialplan: dict[str, Context]) -> None:
    modules = _conf("modules.conf")
    assert modules.get("modules", "autoload") == "yes"
    require = {v.removesuffix(".so") for v in modules.values("modules", "require")}
    noload = {v.removesuffix(".so") for v in modules.values("modules", "noload")}
    assert modules.values("modules", "load") == []  # `require` fails loudly instead
    assert require & noload == set()
    assert {
        "res_agi", "app_queue", "app_mixmonitor", "app_confbridge", "app_amd",
        "app_voicemail", "res_musiconhold", "chan_pjsip",
    } <= require  # fmt: skip
    used_apps = {app for step in _all_steps(dialplan) for app, _ in _applications(step)}
    assert used_apps <= set(APP_MODULES), f"map new applications: {used_apps - set(APP_MODULES)}"
    text = (CONF_DIR / "extensions.conf").read_text(encoding="utf-8")
    used_functions = set(re.findall(r"\$\{([A-Z_]+)\(", text))
    assert used_functions <= set(FUNCTION_MODULES), used_functions - set(FUNCTION_MODULES)
    needed = {APP_MODULES[a] for a in used_apps} | {FUNCTION_MODULES[f] for f in used_functions}
    assert needed & noload == set()


def test_music_on_hold_points_at_the_rendered_hold_file() -> None:
    moh = _conf("musiconhold.conf")
    assert moh.get("default", "mode") == "files"
    assert moh.get("default", "directory") == "@@MOH_DIR@@"


def test_asterisk_conf_uses_the_real_directories_section() -> None:
    asterisk = _conf("asterisk.conf")
    # `[directories](!)` (as in Asterisk's sample) would be a template Asterisk ignores
    directories = [s for s in asterisk.sections if s.name == "directories"]
    assert len(directories) == 1
    assert not directories[0].template
    assert asterisk.get("directories", "astetcdir") == "@@CONF_DIR@@"


def test_confbridge_profiles_named_by_the_dialplan_exist(dialplan: dict[str, Context]) -> None:
    confbridge = _conf("confbridge.conf")
    kinds = {s.name: confbridge.get(s.name, "type") for s in confbridge.real_sections()}
    step = next(s for s in dialplan["conference"].steps() if s.app == "ConfBridge")
    _, bridge, user, menu = step.args.split(",")
    assert (kinds[bridge], kinds[user], kinds[menu]) == ("bridge", "user", "menu")


def test_pjsip_names_the_dialplan_contexts(dialplan: dict[str, Context]) -> None:
    pjsip = _conf("pjsip.conf")
    contexts = {s.value for sec in pjsip.sections for s in sec.settings if s.key == "context"}
    assert contexts == {"from-operators", "from-trunk"}
    assert contexts <= set(dialplan)
    assert "pjsip_site.conf" in pjsip.includes


def test_every_file_the_render_fills_only_uses_known_placeholders() -> None:
    from callcenter.asterisk.conf_render import AsteriskConfValues, _placeholder_values

    values = AsteriskConfValues(
        inbound_number="88001000000", agi_host="127.0.0.1", agi_port=4573,
        recordings_dir=Path("/srv/rec"), ami_port=5038, ami_username="cc",
        ami_secret="x" * 16, ami_events_username="cc-events", ami_events_secret="y" * 16,
        voicemail_pin="1234",
    )  # fmt: skip
    known = set(_placeholder_values(values, Path("/etc/asterisk")))
    for path in CONF_DIR.glob("*.conf"):
        used = set(re.findall(r"@@([A-Z0-9_]+)@@", path.read_text(encoding="utf-8")))
        assert used <= known, (path.name, used - known)
