# Builds the same addon as CMakeLists.txt, for prebuildify and node-gyp-build's source fallback.
# Sources, libtorch include dirs, defines and link flags all come from scripts/native-config.cjs.
{
  "variables": {
    "tft_nvcc": "<!(node scripts/native-config.cjs nvcc)"
  },
  "targets": [
    {
      "target_name": "tft_native",
      "sources": [
        "<!@(node scripts/native-config.cjs sources)",
        "<!@(node scripts/native-config.cjs cuda-sources)"
      ],
      "include_dirs": [
        "native",
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "<!@(node scripts/native-config.cjs include-dirs)"
      ],
      "defines": [
        "NAPI_VERSION=8",
        "NAPI_CPP_EXCEPTIONS",
        "NODE_ADDON_API_DISABLE_DEPRECATED",
        "<!@(node scripts/native-config.cjs defines)"
      ],
      "cflags!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17", "-std=gnu++20"],
      "cflags_cc": [
        "-std=c++17", "-O3", "-fexceptions", "-frtti", "-fvisibility=hidden", "-Wno-unused-parameter",
        "<!@(node scripts/native-config.cjs cxxflags)"
      ],
      "libraries": ["<!@(node scripts/native-config.cjs ldflags)"],
      "rules": [
        {
          "rule_name": "nvcc",
          "extension": "cu",
          "inputs": ["<(RULE_INPUT_PATH)"],
          "outputs": ["<(INTERMEDIATE_DIR)/<(RULE_INPUT_ROOT).o"],
          "action": [
            "<(tft_nvcc)", "<!@(node scripts/native-config.cjs nvcc-flags)",
            "-c", "<(RULE_INPUT_PATH)", "-o", "<(INTERMEDIATE_DIR)/<(RULE_INPUT_ROOT).o"
          ],
          "message": "nvcc <(RULE_INPUT_PATH)",
          "process_outputs_as_sources": 1
        }
      ]
    }
  ]
}
