"""Shared fixtures. The suite imports the installed wheel, never the source tree."""

import pytest

import safespace


@pytest.fixture(scope="session")
def rules() -> safespace.Detector:
    """Rules only: deterministic and fast, for tests about the API rather than the model."""
    return safespace.Detector(rules_only=True)


@pytest.fixture(scope="session")
def detector() -> safespace.Detector:
    """The default detector (bundled model + rules), which must find ONNX Runtime by itself."""
    return safespace.Detector(require_model=True)
