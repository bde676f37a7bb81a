"""Start Rasa (``python bot/run_rasa.py run …``, same arguments as ``rasa``) with its action-response check built once.

Rasa 3.6 checks every action server response with ``jsonschema.validate(response, schema)``,
which validates the schema itself against the JSON Schema meta-schema and builds a new
validator on every call.  Profiled under load (py-spy, docs/benchmarks.md), that check took
about a third of the Rasa server's CPU per turn.  Here the validator is built (and the schema
checked) once per process; every response is still validated against the same schema, and an
invalid one is refused with Rasa's own message.  Runs in the Rasa venv (Python 3.10).
"""

from __future__ import annotations

import sys
from functools import lru_cache
from typing import Any


def install() -> None:
    """Replace ``RemoteAction._validate_action_result`` by the same check with a cached validator."""
    import jsonschema
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.constants import DOCS_BASE_URL

    @lru_cache(maxsize=1)
    def validator() -> Any:
        schema = RemoteAction.action_response_format_spec()
        cls = jsonschema.validators.validator_for(schema)
        cls.check_schema(schema)
        return cls(schema)

    def validate_action_result(self: Any, result: dict[str, Any]) -> bool:
        error = jsonschema.exceptions.best_match(validator().iter_errors(result))
        if error is not None:  # what jsonschema.validate raises, with the text Rasa adds
            error.message += (
                ". Failed to validate Action server response from API, "
                "make sure your response from the Action endpoint is valid. "
                f"For more information about the format visit {DOCS_BASE_URL}/custom-actions"
            )
            raise error
        return True

    RemoteAction._validate_action_result = validate_action_result


if __name__ == "__main__":
    install()
    from rasa.__main__ import main

    sys.argv[0] = "rasa"
    sys.exit(main())
