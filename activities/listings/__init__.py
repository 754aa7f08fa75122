"""The listing's side of the entitlement's writes: announcing changes to the village's board."""
