// Text rendering stack of the original renderer (SPEC 5): Pango laid out on Cairo image surfaces, fonts
// registered from files through fontconfig and selected through PangoFT2's font map.
#include <pango/pangocairo.h>
#include <pango/pangoft2.h>
#include <pango/pangofc-fontmap.h>
#include <fontconfig/fontconfig.h>
#include <cairo.h>
#include <hb.h>
#include <ft2build.h>
#include FT_FREETYPE_H
