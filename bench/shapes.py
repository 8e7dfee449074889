"""The presets' real shapes: each model's published config.json fields (Hugging Face hub, main
branch), the ones vLLM and the floor benchmark read. Stdlib only: `bench.floor` runs where only
torch is installed (a lent GPU machine), `bench.gpu` where vLLM is.
"""

from __future__ import annotations

from typing import Any

_QWEN25_1M = {
    "architectures": ["Qwen2ForCausalLM"],
    "model_type": "qwen2",
    "rope_theta": 10_000_000.0,
    "max_position_embeddings": 1_010_000,
    "rms_norm_eps": 1e-5,
    "vocab_size": 152_064,
    "hidden_act": "silu",
    "tie_word_embeddings": False,
    "use_sliding_window": False,
    "dual_chunk_attention_config": {
        "chunk_size": 262_144,
        "local_size": 8192,
        "original_max_position_embeddings": 262_144,
    },
}
CONFIGS: dict[str, dict[str, Any]] = {
    "qwen2.5-7b-instruct-1m": {
        **_QWEN25_1M,
        "hidden_size": 3584,
        "intermediate_size": 18_944,
        "num_hidden_layers": 28,
        "num_attention_heads": 28,
        "num_key_value_heads": 4,
    },
    "qwen2.5-14b-instruct-1m": {
        **_QWEN25_1M,
        "hidden_size": 5120,
        "intermediate_size": 13_824,
        "num_hidden_layers": 48,
        "num_attention_heads": 40,
        "num_key_value_heads": 8,
    },
    "llama-3.1-8b-instruct": {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "hidden_size": 4096,
        "intermediate_size": 14_336,
        "num_hidden_layers": 32,
        "num_attention_heads": 32,
        "num_key_value_heads": 8,
        "max_position_embeddings": 131_072,
        "rope_theta": 500_000.0,
        "rope_scaling": {
            "rope_type": "llama3",
            "factor": 8.0,
            "low_freq_factor": 1.0,
            "high_freq_factor": 4.0,
            "original_max_position_embeddings": 8192,
        },
        "rms_norm_eps": 1e-5,
        "vocab_size": 128_256,
        "hidden_act": "silu",
        "tie_word_embeddings": False,
    },
    "qwen3-8b-yarn-128k": {
        "architectures": ["Qwen3ForCausalLM"],
        "model_type": "qwen3",
        "hidden_size": 4096,
        "intermediate_size": 12_288,
        "num_hidden_layers": 36,
        "num_attention_heads": 32,
        "num_key_value_heads": 8,
        "head_dim": 128,
        "max_position_embeddings": 40_960,
        "rope_theta": 1_000_000.0,
        "rms_norm_eps": 1e-6,
        "vocab_size": 151_936,
        "hidden_act": "silu",
        "tie_word_embeddings": False,
    },
    "yarn-mistral-7b-128k": {
        "architectures": ["MistralForCausalLM"],
        "model_type": "mistral",
        "hidden_size": 4096,
        "intermediate_size": 14_336,
        "num_hidden_layers": 32,
        "num_attention_heads": 32,
        "num_key_value_heads": 8,
        "max_position_embeddings": 32_768,
        "rope_theta": 10_000.0,
        "rope_scaling": {"type": "yarn", "factor": 16.0, "original_max_position_embeddings": 8192},
        "rms_norm_eps": 1e-5,
        "vocab_size": 32_000,
        "hidden_act": "silu",
        "tie_word_embeddings": False,
        "sliding_window": 131_072,
    },
}
