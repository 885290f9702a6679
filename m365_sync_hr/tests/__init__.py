from . import test_hr
