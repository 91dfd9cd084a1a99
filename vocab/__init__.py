"""Medical vocabulary data (lexicons, abbreviations, commands, units); installed as ``transcribe_vocab``."""
