/* `scout config show|doc`: the effective configuration and its documentation. */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "config/config.h"

int cmd_config(int argc, char **argv)
{
	struct config c;
	serr e;

	if (argc < 2 || strcmp(argv[1], "show") == 0) {
		if (config_load(&c, &e) < 0) {
			fprintf(stderr, "scout: %s\n", e.msg);
			return 1;
		}
		config_show(&c, stdout);
		config_free(&c);
		return 0;
	}
	if (strcmp(argv[1], "doc") == 0) {
		config_doc(stdout);
		return 0;
	}
	fprintf(stderr, "usage: scout config show|doc\n");
	return 2;
}
