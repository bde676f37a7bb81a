"""`python -m gateway`: run the web gateway with the configured settings."""

from gateway.app import run
from weiyuan.settings import get_settings

if __name__ == "__main__":
    run(get_settings())
