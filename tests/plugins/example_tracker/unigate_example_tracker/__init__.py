"""An out-of-tree connector for the Example Tracker (a tiny API the test serves)."""
