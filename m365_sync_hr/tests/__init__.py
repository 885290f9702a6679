from . import test_hr, test_translations
