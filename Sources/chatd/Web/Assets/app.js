// chatd's browser UI (being built).
