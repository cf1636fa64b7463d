"""The headless subcommands (``emgscope record``, ``info``, ...): one module each, dispatched by ``emgscope.cli``."""
