/*
 * The code every editor file of @comfy-red/node-red-comfyui shares, once. Node-RED serves this
 * package's resources/ folder at resources/@comfy-red/node-red-comfyui/, and each editor file loads
 * this script before its own: a node set enabled alone still has it. Loaded again by another editor
 * file, the first copy stays (its editor event handlers are registered once).
 *
 * The config migrations below are also what the runtime applies (src/nodes/config-version.ts
 * requires this file): a flow saved by any earlier release is upgraded by the same code in both.
 */
(function (root, factory) {
  var shared = factory();
  if (typeof module === 'object' && module.exports) {
    module.exports = shared;
  } else if (!root.ComfyUIEditor) {
    root.ComfyUIEditor = shared;
    shared.listen();
  }
})(this, function () {
  'use strict';
  var PACKAGE = '@comfy-red/node-red-comfyui';
  var POOL_NS = PACKAGE + '/comfyui-pool:comfyui-pool.';

  /** The TypedInput types read per msg (src/nodes/typed-setting.ts has the runtime's list). */
  var SOURCES = ['msg', 'flow', 'global', 'env', 'jsonata'];

  // ---- config versions and migrations ----

  // The progress events a node without a list got in the first release: everything about a
  // prompt's progress but the chatty snapshots and images (queue_position came later).
  var FIRST_PROGRESS_EVENTS = [
    'execution_start',
    'execution_cached',
    'executing',
    'progress',
    'executed',
    'execution_success',
    'execution_error',
    'execution_interrupted',
    'status',
  ];

  /** `changes` for each key `config` does not have (null counts as not having it). */
  function missing(config, changes) {
    var patch = {};
    Object.keys(changes).forEach(function (key) {
      if (config[key] === undefined || config[key] === null) {
        patch[key] = changes[key];
      }
    });
    return patch;
  }

  // A setting that became a TypedInput: its type, when the flow has none, is the one that reads
  // what the setting held as it is (a literal). Settings that did not exist get what their
  // absence meant in the release before.
  function typed(types) {
    return function (config) {
      var patch = {};
      Object.keys(types).forEach(function (key) {
        if (config[key + 'Type'] === undefined || config[key + 'Type'] === '') {
          patch[key + 'Type'] = types[key];
        }
      });
      return patch;
    };
  }
  function both() {
    var steps = Array.prototype.slice.call(arguments);
    return function (config) {
      var patch = {};
      steps.forEach(function (step) {
        var changes = step(config);
        Object.keys(changes).forEach(function (key) {
          patch[key] = changes[key];
        });
      });
      return patch;
    };
  }
  var promptIdFromMsg = function (config) {
    return config.promptId === undefined ? { promptId: 'prompt_id', promptIdType: 'msg' } : {};
  };

  /**
   * Per node type, the migrations in order: migration i takes a config of version i to i + 1
   * (a flow without configVersion is version 0) by returning the properties to set. A node's
   * current version is the length of its list. Version 1 is every setting a flow of an earlier
   * release may lack, set to what its absence meant, so the adapters read settings as saved.
   */
  var MIGRATIONS = {
    'comfyui-server': [
      function (c) {
        // The first release saved name, url and timeout; the limits' empty value is the runtime's default.
        return missing(c, {
          auth: 'none',
          queryParam: 'token',
          tls: '',
          stall: 60,
          jobStore: '',
          maxFileMB: '',
          maxAnswerMB: '',
          maxFrameMB: '',
          downloadTimeout: '',
          maxText: '',
        });
      },
    ],
    'comfyui-pool': [
      function (c) {
        return missing(c, { jobStore: '' });
      },
    ],
    'comfyui-submit': [
      both(
        function (c) {
          return missing(c, {
            mode: 'wait',
            overrides: [],
            previews: 'none',
            onStop: 'leave',
            validate: true,
            dryRun: false,
            targets: '',
            bypass: '',
            mute: '',
            affinity: '',
            retries: 0,
            timeout: '',
            queueTimeout: '',
            cancelOnTimeout: false,
          });
        },
        typed({ previews: 'previews', targets: 'str', bypass: 'str', mute: 'str', affinity: 'str' }),
      ),
    ],
    'comfyui-progress': [
      function (c) {
        return missing(c, { scope: 'own', events: FIRST_PROGRESS_EVENTS.slice(), previewRate: 0, coalesce: '' });
      },
    ],
    'comfyui-images': [
      function (c) {
        return missing(c, {
          output: 'buffer',
          thumbnail: false,
          directory: '',
          directoryType: 'str',
          template: '{filename}',
          existing: 'unique',
        });
      },
    ],
    'comfyui-queue': [typed({ action: 'action' })],
    'comfyui-interrupt': [promptIdFromMsg],
    'comfyui-free': [typed({ unloadModels: 'bool', freeMemory: 'bool' })],
    'comfyui-history': [both(promptIdFromMsg, typed({ action: 'action', maxItems: 'num', offset: 'num' }))],
    'comfyui-info': [typed({ info: 'info', nodeClass: 'str', folder: 'str' })],
    'comfyui-upload': [
      both(
        function (c) {
          return missing(c, { kind: 'image', filesFrom: '', fetchUrls: false, privateAddresses: false, urlTimeout: 60 });
        },
        typed({ folder: 'folder', filename: 'str', subfolder: 'str', overwrite: 'bool', original: 'str' }),
      ),
    ],
  };

  // A palette node saved before pools runs on its server: no pool.
  Object.keys(MIGRATIONS).forEach(function (type) {
    if (type !== 'comfyui-server' && type !== 'comfyui-pool') {
      MIGRATIONS[type][0] = both(MIGRATIONS[type][0], function (c) {
        return missing(c, { pool: '' });
      });
    }
  });

  /** The config version a new node of `type` gets (0 for a type of another package). */
  function versionOf(type) {
    return MIGRATIONS[type] ? MIGRATIONS[type].length : 0;
  }

  /** The properties that upgrade `config` (of its `type`) to the current version; {} when it is current. */
  function upgrade(config) {
    var steps = MIGRATIONS[config.type] || [];
    var from = Number(config.configVersion) || 0;
    var patch = {};
    if (from >= steps.length) {
      return patch;
    }
    var view = Object.assign({}, config);
    for (var version = from; version < steps.length; version++) {
      var changes = steps[version](view);
      Object.assign(view, changes);
      Object.assign(patch, changes);
    }
    patch.configVersion = steps.length;
    return patch;
  }

  /** `config` at the current version, as a new object (the runtime's view of a saved node). */
  function migrate(config) {
    return Object.assign({}, config, upgrade(config));
  }

  // ---- validators ----

  /** A TypedInput setting is valid as a source by Node-RED's rules, or as a typed-in value by `literal` (else `message`, a catalog key). */
  function setting(field, literal, message) {
    return function (v, opt) {
      var type = $('#node-input-' + field + 'Type').val() || this[field + 'Type'];
      if (SOURCES.indexOf(type) !== -1) {
        return RED.utils.validateTypedProperty(v, type, opt);
      }
      return literal(v) ? true : RED._(message);
    };
  }

  /** A setting chosen from a select: one of `values`, else `message` (a catalog key). */
  function oneOf(values, message) {
    return function (v) {
      return values.indexOf(v) !== -1 ? true : RED._(message);
    };
  }

  /** A choiceInput setting: one of `values` when typed in (else `message`, a catalog key), or a source. */
  function choice(field, values, message) {
    return setting(
      field,
      function (v) {
        return values.indexOf(v) !== -1;
      },
      message,
    );
  }

  /** Seconds, empty or 0 meaning "no limit"; else `message` (a catalog key). */
  function secondsOrEmpty(message) {
    return function (v, opt) {
      var s = String(v === undefined || v === null ? '' : v).trim();
      return s === '' || (isFinite(Number(s)) && Number(s) >= 0) ? true : RED._(message);
    };
  }

  // ---- the workflow format (the same rules as src/client/workflow.ts; test/editor-shared.spec.js runs both) ----

  function isUiWorkflow(value) {
    return value !== null && typeof value === 'object' && Array.isArray(value.nodes) && (Array.isArray(value.links) || 'state' in value);
  }

  function looksLikeNode(value) {
    return (
      value !== null &&
      typeof value === 'object' &&
      !Array.isArray(value) &&
      typeof value.class_type === 'string' &&
      value.inputs !== null &&
      typeof value.inputs === 'object' &&
      !Array.isArray(value.inputs)
    );
  }

  // The workflow as the runtime reads it: {nodes: [{id, title, classType, inputs}]} for an
  // API-format workflow (or its {"prompt": …} wrapper), {ui: workflow} for a UI-format one,
  // {problem: {key, params}} otherwise (a key of comfyui-submit.errors), null when the text is empty.
  function parseWorkflow(text) {
    if (text === undefined || text === null || String(text).trim() === '') {
      return null;
    }
    var wf;
    try {
      wf = JSON.parse(String(text));
    } catch (err) {
      return { problem: { key: 'invalid-json', params: { error: err.message } } };
    }
    if (wf === null || typeof wf !== 'object' || Array.isArray(wf)) {
      return { problem: { key: 'not-object', params: {} } };
    }
    // A UI-format workflow is converted: in the editor with the deployed server's definitions, else at run time.
    if (isUiWorkflow(wf)) {
      return { ui: wf };
    }
    if (Object.prototype.hasOwnProperty.call(wf, 'prompt') && !looksLikeNode(wf.prompt)) {
      if (wf.prompt === null || typeof wf.prompt !== 'object' || Array.isArray(wf.prompt)) {
        return { problem: { key: 'prompt-not-object', params: {} } };
      }
      if (isUiWorkflow(wf.prompt)) {
        return { ui: wf.prompt };
      }
      wf = wf.prompt;
    }
    var ids = Object.keys(wf);
    if (ids.length === 0) {
      return { problem: { key: 'no-nodes', params: {} } };
    }
    var nodes = [];
    for (var i = 0; i < ids.length; i++) {
      var entry = wf[ids[i]];
      if (!looksLikeNode(entry)) {
        return { problem: { key: 'not-node', params: { id: ids[i] } } };
      }
      nodes.push({
        id: ids[i],
        title: entry._meta && typeof entry._meta.title === 'string' ? entry._meta.title : '',
        classType: entry.class_type,
        inputs: entry.inputs,
      });
    }
    nodes.sort(function (a, b) {
      var na = Number(a.id),
        nb = Number(b.id);
      if (isFinite(na) && isFinite(nb) && na !== nb) {
        return na - nb;
      }
      return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
    });
    return { nodes: nodes };
  }

  // ---- Run on one server or a pool: every palette node ----
  // Exactly one of `server` and `pool` is set (a flow from before pools has only `server`). Neither
  // is `required`: Node-RED skips the validator of an empty optional property, and "neither" must be said.
  var runOn = {
    // The open dialog's Run on choice when that dialog is `node`'s, else undefined.
    shown: function (node) {
      var select = $('#comfyui-run-on');
      return select.length > 0 && select.attr('data-node-id') === node.id ? select.val() : undefined;
    },
    // The server or pool id the node runs on, as its open dialog shows it (the picker it hides
    // is cleared on save), else as saved; "" when none.
    chosen: function (node, property, value) {
      var shown = runOn.shown(node);
      if (shown !== undefined && shown !== property) {
        return '';
      }
      var v = value !== undefined ? value : shown !== undefined ? $('#node-input-' + property).val() : node[property];
      return v && v !== '_ADD_' ? String(v) : '';
    },
    validator: function (property) {
      var isPool = property === 'pool';
      return function (v, opt) {
        var id = runOn.chosen(this, property, v);
        if (id === '') {
          // Said once: by the picker the dialog shows, else by the server's.
          var speaks = (runOn.shown(this) || 'server') === property;
          var other = runOn.chosen(this, isPool ? 'server' : 'pool');
          return speaks && other === '' ? RED._(POOL_NS + 'runOn.neither') : true;
        }
        if (isPool && runOn.chosen(this, 'server') !== '') {
          return RED._(POOL_NS + 'runOn.both');
        }
        // Node-RED checks a config reference itself only for a property without a validator: the same words.
        var config = RED.nodes.node(id);
        if (!config || config.valid === false) {
          return RED._(config ? 'validator.errors.invalid-config' : 'validator.errors.missing-config', { prop: property });
        }
        return true;
      };
    },
    prepare: function (node) {
      var select = $('#comfyui-run-on').attr('data-node-id', node.id);
      // A node with both (edited by hand) runs on the pool, as the runtime does.
      select.val(node.pool ? 'pool' : 'server');
      function show() {
        var pool = select.val() === 'pool';
        $('.comfyui-run-on-server').toggle(!pool);
        $('.comfyui-run-on-pool').toggle(pool);
        // Which picker counts has changed: both are validated again.
        $('#node-input-server').trigger('change');
      }
      select.on('change', show);
      show();
    },
    save: function () {
      $('#node-input-' + ($('#comfyui-run-on').val() === 'pool' ? 'server' : 'pool')).val('_ADD_');
    },
  };

  // ---- what every palette node's definition has ----
  var palette = {
    paletteLabel: function () {
      return this._(this.type + '.paletteLabel');
    },
    label: function () {
      return this.name || this._(this.type + '.paletteLabel');
    },
    labelStyle: function () {
      return this.name ? 'node_label_italic' : '';
    },
    inputLabels: function () {
      return this._(this.type + '.label.inputPort');
    },
    outputLabels: function () {
      return this._(this.type + '.label.outputPort');
    },
  };

  /** The config version property of a definition's defaults: a new node is current. */
  function configVersion(type) {
    return { value: versionOf(type) };
  }

  /** A TypedInput for `#node-input-<field>` whose typed-in value is of type `first` (e.g. "num"), or read per msg from a source. */
  function sourcedInput(field, first) {
    $('#node-input-' + field).typedInput({ default: first, typeField: '#node-input-' + field + 'Type', types: [first].concat(SOURCES) });
  }

  /**
   * The catalog key a choice of `field` is shown under: `<optionKeys>.<value>`, else
   * `<type>.label.<field><Value>`. The build's select rows (src/tools/editor-file.ts) use it too.
   */
  function optionKey(type, field, value, optionKeys) {
    return optionKeys ? optionKeys + '.' + value : type + '.label.' + field + value.charAt(0).toUpperCase() + value.slice(1);
  }

  /**
   * A TypedInput for `#node-input-<field>` whose typed-in value is one of `values`, or read per msg
   * from a source. Shown under `<type>.label.<field>`, each value as `<optionKeys>.<value>` or else
   * `<type>.label.<field><Value>` (catalog keys of the node's own type).
   */
  function choiceInput(node, field, values, optionKeys) {
    $('#node-input-' + field).typedInput({
      default: field,
      typeField: '#node-input-' + field + 'Type',
      types: [
        {
          value: field,
          label: node._(node.type + '.label.' + field),
          icon: 'fa fa-list-ul',
          options: values.map(function (value) {
            return { value: value, label: node._(optionKey(node.type, field, value, optionKeys)) };
          }),
        },
      ].concat(SOURCES),
    });
  }

  /**
   * Replaces the text input `#<id>` with a select of Node-RED's context stores when the editor
   * knows them; `current` stays a choice even when it is not (or no longer) a store.
   */
  function contextStoreSelect(id, current, defaultLabel) {
    var context = RED.settings.context;
    if (!context || !Array.isArray(context.stores)) {
      return;
    }
    var select = $('<select id="' + id + '" style="width: 70%;"></select>');
    var names = context.stores.slice();
    if (current && names.indexOf(current) === -1) {
      names.push(current);
    }
    $('<option></option>')
      .val('')
      .text(defaultLabel(context.default || 'default'))
      .appendTo(select);
    names.forEach(function (name) {
      $('<option></option>').val(name).text(name).appendTo(select);
    });
    $('#' + id).replaceWith(select);
    select.val(current || '');
  }

  /** Upgrades a node of ours when the editor loads or imports it, before Node-RED validates it. */
  function listen() {
    RED.events.on('nodes:add', function (node) {
      if (node && MIGRATIONS[node.type]) {
        Object.assign(node, upgrade(node));
      }
    });
  }

  return {
    SOURCES: SOURCES,
    MIGRATIONS: MIGRATIONS,
    versionOf: versionOf,
    configVersion: configVersion,
    upgrade: upgrade,
    migrate: migrate,
    setting: setting,
    choice: choice,
    oneOf: oneOf,
    secondsOrEmpty: secondsOrEmpty,
    isUiWorkflow: isUiWorkflow,
    parseWorkflow: parseWorkflow,
    runOn: runOn,
    palette: palette,
    sourcedInput: sourcedInput,
    choiceInput: choiceInput,
    optionKey: optionKey,
    contextStoreSelect: contextStoreSelect,
    listen: listen,
  };
});
