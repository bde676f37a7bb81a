"""The web gateway (aiohttp): website widget API, hotline agent lookup, admin console, expert desk."""
