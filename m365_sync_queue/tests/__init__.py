from . import test_queue, test_translations
