"""Shared fixtures. The suite imports the installed wheel, never the source tree."""

import pytest

import safespace


@pytest.fixture(scope="session")
def rules() -> safespace.Detector:
    """The fast engine (rules and lexical tier): deterministic and fast, for tests about the API rather
    than the model."""
    return safespace.Detector(rules_only=True)


@pytest.fixture(scope="session")
def detector() -> safespace.Detector:
    """The default detector (the cascade: rules, lexical tier and the bundled model), which must find
    ONNX Runtime by itself."""
    return safespace.Detector(require_model=True)
