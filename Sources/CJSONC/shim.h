// json-c: streaming tokenizer for large JSON files (tokenizer.json, big indexes).
#include <json.h>
