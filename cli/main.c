/* rill: one binary, git-style subcommands. This file only dispatches; each
 * command lives in cli/cmd_NAME.c. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
};

static const struct command commands[] = {
    {"get", cli_cmd_get, "download a torrent (and seed it with --seed)"},
    {"seed", cli_cmd_seed, "seed a torrent's content from a directory"},
    {"create", cli_cmd_create, "make a .torrent from a file or directory"},
    {"info", cli_cmd_info, "show what a .torrent or magnet link holds"},
    {"verify", cli_cmd_verify, "check downloaded data against a .torrent"},
    {"tracker", cli_cmd_tracker, "run an HTTP and UDP tracker"},
    {"dht", cli_cmd_dht, "run a Mainline DHT node, or ask the DHT for a torrent's peers"},
    {"model", cli_cmd_model, "distribution-time bounds, client-server against P2P"},
    {"swarm", cli_cmd_swarm, "run a swarm of rill processes on loopback against the bound"},
    {"sim", cli_cmd_sim, "simulate a swarm (10,000 peers and more) with rill's own cores"},
};

static void usage(FILE *f)
{
    fputs("Usage: rill COMMAND [OPTIONS] [ARGS]\n"
          "       rill help COMMAND | rill COMMAND --help\n"
          "       rill --version\n"
          "\n"
          "Commands:\n",
          f);
    for (size_t i = 0; i < CLI_ARRAY_LEN(commands); i++)
        fprintf(f, "  %-8s  %s\n", commands[i].name, commands[i].summary);
    fputs("\n"
          "Exit status:\n"
          "  0  success\n"
          "  1  verify found missing or bad data; get stopped before completion\n"
          "  2  usage error (unknown command or option, bad argument)\n"
          "  3  invalid input (a bad torrent or magnet link)\n"
          "  4  I/O or system error\n"
          "\n"
          "Examples:\n"
          "  rill get ubuntu.torrent -o ~/Downloads\n"
          "  rill get big.torrent --seed --ratio 2 --max-up 1M\n"
          "  rill seed photos.torrent ~/Pictures --port 51413\n"
          "\n"
          "See rill(1) for details.\n",
          f);
}

static const struct command *find_command(const char *name)
{
    for (size_t i = 0; i < CLI_ARRAY_LEN(commands); i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

/* Runs `cmd` with argv[0] set to "rill NAME", so getopt's own complaints
 * read "rill create: unrecognized option '--foo'". */
static int run_command(const struct command *cmd, int argc, char **argv)
{
    char prog[64];
    snprintf(prog, sizeof prog, "rill %s", cmd->name);
    argv[0] = prog;
    return cmd->run(argc, argv);
}

static int help_for(int argc, char **argv)
{
    if (argc < 3) {
        usage(stdout);
        return cli_finish(CLI_EXIT_OK);
    }
    const struct command *cmd = find_command(argv[2]);
    if (!cmd) {
        cli_error("unknown command '%s'", argv[2]);
        return cli_usage_hint(NULL);
    }
    char help[] = "--help";
    char *sub[] = {argv[2], help, NULL};
    return run_command(cmd, 2, sub);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    const char *arg = argv[1];
    if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0 || strcmp(arg, "help") == 0)
        return help_for(argc, argv);
    if (strcmp(arg, "--version") == 0 || strcmp(arg, "-V") == 0 ||
        strcmp(arg, "version") == 0) {
        puts("rill " RILL_VERSION);
        return cli_finish(CLI_EXIT_OK);
    }
    const struct command *cmd = find_command(arg);
    if (!cmd) {
        if (arg[0] == '-')
            cli_error("unknown option '%s'", arg);
        else
            cli_error("unknown command '%s'", arg);
        return cli_usage_hint(NULL);
    }
    return cli_finish(run_command(cmd, argc - 1, argv + 1));
}
