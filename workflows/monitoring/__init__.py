"""Low-income population monitoring and warnings (动态监测预警)."""
