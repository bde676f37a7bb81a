"""`python -m gateway`: run the web gateway with the configured settings."""

from core.settings import get_settings
from gateway.app import run

if __name__ == "__main__":
    run(get_settings())
