"""``AreaRef``: a case's area resolved once, when the case starts, and carried in its state.

The registered area (village or township, 行政区划代码 in significant-prefix form) with the
township and county it belongs to, so no step re-derives them from the code (DOMAIN §2:
township officers act for their township, the county decides and pays)."""

from pydantic import BaseModel, ConfigDict

from rules.areas import county_of, full_name, is_known_area, township_of


class AreaRef(BaseModel):
    """``code`` as registered (e.g. ``419901001001``); ``township`` its 9-digit township (the
    code itself above township level); ``county`` its 6-digit county (the code itself above
    county level)."""

    model_config = ConfigDict(frozen=True)

    code: str
    township: str
    county: str

    @classmethod
    def of(cls, code: str) -> "AreaRef":
        return cls(code=code, township=township_of(code) or code, county=county_of(code) or code)

    @property
    def name_zh(self) -> str:
        """The full name (e.g. 河南省焦作市沁阳市…) where the registry knows the area."""
        return full_name(self.code) if is_known_area(self.code) else self.code

    def contains(self, area_code: str) -> bool:
        """Prefix containment (an officer of this area acts on ``area_code``)."""
        return area_code.startswith(self.code)
