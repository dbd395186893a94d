// pfor-worker: dials a coordinator and runs the chunks it is sent.
#include "pfor/worker/worker_main.h"

int main(int argc, char** argv) { return pfor::worker::WorkerMain(argc, argv); }
