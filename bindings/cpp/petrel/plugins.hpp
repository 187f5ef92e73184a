// petrel::SelectorPlugin: a C selector plugin (include/petrel_plugin.h) loaded through libpetrel.so.
// Part of petrel.hpp (bindings/cpp), the header-only C++17 wrapper of petrel.h; include petrel.hpp.
#ifndef PETREL_PLUGINS_HPP
#define PETREL_PLUGINS_HPP

#include "core.hpp"

namespace petrel {

/// A loaded selector plugin (move-only) for Producer::send_plugin_selected. `plugin` is a name looked
/// up as <plugin_directory>/<name>.so (e.g. "selector-hash") or a path (anything with '/'). A plugin
/// that cannot be loaded or refuses `config` throws Error with Status::plugin_error and its reason.
class SelectorPlugin {
public:
    explicit SelectorPlugin(const std::string &plugin, const std::optional<std::string> &config = std::nullopt,
                            const std::optional<std::string> &plugin_directory = std::nullopt) {
        petrel_selector_plugin *loaded = nullptr;
        check(petrel_selector_plugin_load(plugin.c_str(), detail::c_string(config), detail::c_string(plugin_directory),
                                          &loaded));
        plugin_.reset(loaded);
    }

    petrel_selector_plugin *native() const {
        if (!plugin_) throw Error(Status::invalid_state, "the selector plugin was moved from");
        return plugin_.get();
    }

private:
    struct Destroy {
        void operator()(petrel_selector_plugin *plugin) const noexcept { petrel_selector_plugin_destroy(plugin); }
    };
    std::unique_ptr<petrel_selector_plugin, Destroy> plugin_;
};

}  // namespace petrel

#endif  // PETREL_PLUGINS_HPP
