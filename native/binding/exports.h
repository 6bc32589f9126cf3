// One registration function per capability; addon.cpp calls them all.
#pragma once

#include <napi.h>

namespace tft::binding {

void register_runtime(Napi::Env env, Napi::Object exports);
void register_rank(Napi::Env env, Napi::Object exports);
void register_model(Napi::Env env, Napi::Object exports);
void register_trainer(Napi::Env env, Napi::Object exports);
void register_attribution(Napi::Env env, Napi::Object exports);
void register_selection(Napi::Env env, Napi::Object exports);

}  // namespace tft::binding
