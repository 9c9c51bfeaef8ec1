#include "gnas/core/error.h"
// Header-only today; this unit keeps the component's object in place for future helpers.
namespace gnas {}
