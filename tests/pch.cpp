// Compiles the precompiled header that every test reuses (main.cpp cannot: it holds doctest itself).
