#include <callswap/formatter.hpp>
#include <catch2/catch.hpp>
