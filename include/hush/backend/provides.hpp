#pragma once
// Which optional kernels a backend provides. A backend says so in its tag
// (`struct provides { static constexpr bool conv_state = true; ... }`), and a layer calls an
// optional kernel only where the flag is set, directly, never through a `requires` probe: a
// backend that claims a kernel whose signature has drifted then fails to compile, instead of
// silently taking the slow path. docs/design.md ("What a backend provides") lists every kernel,
// required and optional, with its shapes.
namespace hush {

/// conv2d_state(b, geometry) -> kernel_state, made at a convolution layer's setup, and the
/// conv2d_forward / conv2d_infer / conv2d_backward / conv2d_backward_data /
/// conv2d_backward_weight / conv2d_scratch / conv2d_keeps_layouts / conv2d_infer_accumulate /
/// conv2d_keeps_inference_weights / conv2d_infer_holds_weights overloads that take it.
template <class B>
concept provides_conv_state = requires { requires B::provides::conv_state; };

/// The blocked activation layout (core/layout.hpp): activation_block, blocked_layout_fits,
/// reorder_activation, sum_into_bias_blocked, batch_norm_statistics_blocked,
/// batch_norm_forward_relu_blocked, batch_norm_backward_blocked, global_avg_pool_blocked_forward,
/// global_avg_pool_blocked_backward.
template <class B>
concept provides_blocked_layout = requires { requires B::provides::blocked_layout; };

/// Batch norm with a (leaky) ReLU in the same pass: batch_norm_forward_relu,
/// batch_norm_backward_relu.
template <class B>
concept provides_batch_norm_relu = requires { requires B::provides::batch_norm_relu; };

}  // namespace hush
