"""Static checks that the adapters satisfy the ports the use cases declare (mypy reads these;
nothing runs). They live in the composition root, the one place allowed to see both sides.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from callcenter.acd.agi_scripts import AcdScript, Prompts
    from callcenter.acd.service import AcdControl
    from callcenter.asterisk.agi import AgiChannel, AgiHandler
    from callcenter.asterisk.ami import AmiClient
    from callcenter.pbx.channel import CallChannel
    from callcenter.speech.tts import PromptRenderer

    def _agi_channel_is_a_call_channel(channel: AgiChannel) -> CallChannel:
        return channel

    def _renderer_is_enough(renderer: PromptRenderer) -> Prompts:
        return renderer

    def _scripts_are_agi_handlers(script: AcdScript) -> AgiHandler:
        return script

    def _amiclient_is_enough(client: AmiClient) -> AcdControl:
        return client
