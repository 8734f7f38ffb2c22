"""klikbot\x27s edge: the aiohttp web app, the Bot Framework adapter, the Teams handler and the CLI."""
