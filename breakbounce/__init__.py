"""breakbounce: leak-free, labeled level-touch training data from ES / SPY 0DTE market data."""

__version__ = "0.1.0"
