/* Placeholder until the CLI lands in this session. */
#include <stdio.h>
int main(void) { puts("rill"); return 0; }
