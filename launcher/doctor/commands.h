// `progeny doctor`, dispatched by launcher/main.cc. Returns the exit status.
#pragma once

namespace progeny {

int doctor_main(int argc, char** argv);

}  // namespace progeny
