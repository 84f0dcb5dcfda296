"""unigate: a unified Issue Tracking gateway speaking Apideck's Issue Tracking API."""

__version__ = "0.1.0"
