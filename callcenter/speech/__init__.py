"""Speech adapter: Russian TTS (pyttsx3 on espeak-ng), Vosk ASR, Russian number wording.

The only place pyttsx3, vosk, num2words and soxr are imported. Blocking engines run in worker
threads; `numbers_ru` is pure.
"""
