"""A test module that cannot be imported."""

import samplepkg_missing_dependency  # noqa: F401
