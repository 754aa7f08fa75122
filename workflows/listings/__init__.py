"""The long-term public listing's posting (长期公示): one workflow per village."""
