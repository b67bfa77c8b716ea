#pragma once
// One step of adversarial training (Goodfellow et al. 2014) of any generator type against any
// discriminator type, for restoration: G maps a degraded input to an image, D scores an image as
// real or made. As seeds 001 and 002 train:
//   1. fake = G(input)
//   2. D's update: D(real) toward "real", D(fake) toward "generated", either as two updates in
//      turn (Keras's train_on_batch on each, seed 001: `separate`) or one on their sum
//      (PyTorch's DCGAN: `joint`); with the WGAN critic's loss, its weights clipped after each
//      update and `critic_steps` updates (each on a batch of its own) per generator update
//   3. G's update through D, whose parameters do not move:
//        λg·content(fake, real) + λd·adversarial(D(fake), "real")
//      a weighted_terms loss: its terms are on different tensors (the image, D's score)
// A conditional GAN's batches carry a condition (a class or attribute vector) that D sees joined
// to every image it scores (gan_batch).
// Each network has its own Adam and schedule. D's batch norm is in training mode throughout (its
// running statistics follow every batch it sees), as in PyTorch. The epochs, files and
// validation around these steps are train/gan.hpp's.
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "hush/backend/unary_ops.hpp"
#include "hush/core/error.hpp"
#include "hush/core/index_tensor.hpp"
#include "hush/distributed/gradient_averager.hpp"
#include "hush/graph/model.hpp"
#include "hush/losses/cross_entropy.hpp"
#include "hush/losses/pointwise.hpp"
#include "hush/losses/weighted_terms.hpp"
#include "hush/metrics/accuracy.hpp"
#include "hush/optim/adam.hpp"
#include "hush/optim/schedule.hpp"

namespace hush::train {

/// The adversarial loss on D's raw score: binary cross-entropy on a logit (D ends in a linear
/// layer; its sigmoid is the probability "real"), or the WGAN critic's E[D(fake)] - E[D(real)].
enum class adversarial_kind { bce, wasserstein };
/// How D learns from a real and a generated batch: two updates in turn, or one on their sum.
enum class critic_update { separate, joint };

/// The adversarial loss's name, as a run's description (checked on resume) says it.
inline const char* name_of(adversarial_kind k) { return k == adversarial_kind::bce ? "bce" : "wasserstein"; }
/// The update's name, as a run's description (checked on resume) says it.
inline const char* name_of(critic_update u) { return u == critic_update::separate ? "separate" : "joint"; }

/// One network's optimizer (Adam) and schedule.
struct network_recipe {
  float lr = 2e-4f, beta1 = 0.5f, beta2 = 0.999f;
  bool cosine = false;  // decay to lr/100 by a cosine over the run; else constant
};

/// The recipe of a GAN step: each network's Adam, G's content and adversarial weights, the
/// adversarial loss and how D updates. Defaults: BCE, separate D updates, one per G update, no
/// classifier in D and no clipping.
struct adversarial_options {
  network_recipe generator, discriminator;
  float content_weight = 1.0f;       // λg
  float adversarial_weight = 0.01f;  // λd
  adversarial_kind adversarial = adversarial_kind::bce;
  critic_update update = critic_update::separate;
  int critic_steps = 1;  // D's updates per G update (WGAN: 5)
  /// A classifier in the discriminator (AC-GAN, Odena et al. 2017; seed 002's ResGAN): D gives
  /// 1 + classes scores, the real/generated logit then class logits, and learns the classes of
  /// the real and the generated images (cross-entropy against the batch's labels, weighted by
  /// class_weight); G learns to make D see its images' labels. 0: no classifier.
  std::int64_t classes = 0;
  float class_weight = 1.0f;
  float clip = 0.0f;     // D's weights clipped to [-clip, clip] after each update (WGAN: 0.01); 0: not

  /// Throws hush::error naming the first setting that cannot work.
  void validate() const {
    const auto bad = [](const std::string& what) { throw error("GAN training: " + what); };
    const auto check = [&](const network_recipe& r, const char* who) {
      if (!(std::isfinite(r.lr) && r.lr > 0)) bad(std::string(who) + "'s learning rate must be a positive number");
      if (!(r.beta1 >= 0 && r.beta1 < 1 && r.beta2 >= 0 && r.beta2 < 1)) bad(std::string(who) + "'s betas must be in [0, 1)");
    };
    check(generator, "the generator");
    check(discriminator, "the discriminator");
    if (!(std::isfinite(content_weight) && content_weight >= 0)) bad("the content weight must be >= 0");
    if (!(std::isfinite(adversarial_weight) && adversarial_weight >= 0)) bad("the adversarial weight must be >= 0");
    if (critic_steps < 1) bad("critic steps must be at least 1, not " + std::to_string(critic_steps));
    if (!(std::isfinite(clip) && clip >= 0)) bad("the clip bound must be >= 0 (0: no clipping)");
    if (classes < 0) bad("classes must be >= 0 (0: no classifier in the discriminator)");
    if (!(std::isfinite(class_weight) && class_weight >= 0)) bad("the class weight must be >= 0");
  }
};

/// What one step measured: D's loss on the real and the generated batch (the last critic
/// update's), G's two terms unweighted.
struct gan_losses {
  double d_real = 0, d_fake = 0, g_content = 0, g_adversarial = 0;
  /// With a classifier in D: its cross-entropy on the real batch, on the generated one (as G
  /// learned from it), and the share of the real batch it classifies right.
  double d_class = 0, g_class = 0, class_accuracy = 0;
};

/// One batch of a step: the generator's input, the real images and, for a conditional GAN
/// (Mirza & Osindero 2014), a condition (N, K) (a class as one-hot, or attributes) that the
/// discriminator sees joined to every image it scores as K constant planes; the generator's
/// input carries it as its data function joined it (for example as planes, by the same rule).
template <class T>
struct gan_batch {
  const T& input;
  const T& real;
  const T* condition = nullptr;
  const basic_index_tensor<typename T::memory>* labels = nullptr;  // (N) class indices, for a classifier in D
};

namespace detail {
/// out = (images, the condition's K values each as a constant plane): (N, C + K, H, W). (A free
/// function: nvcc takes no device lambda in a class's private member.)
template <class Backend, class T>
void join_condition(Backend backend, const T& images, const T& condition, T& out) {
  const auto& s = images.shape();
  if (condition.shape().rank != 2 || condition.shape()[0] != s.n())
    throw shape_error("GAN: the condition must be (N, K) for images " + s.str() + ", not " + condition.shape().str());
  const std::int64_t k = condition.shape()[1], plane = s.h() * s.w(), image = s.c() * plane, channels = s.c();
  out.resize({s.n(), s.c() + k, s.h(), s.w()});
  copy_blocks(backend, s.n(), image, images.data(), image, out.data(), image + k * plane);
  const float* c = condition.data();
  float* y = out.data();
  for_each_index(backend, s.n() * k * plane, [=] HUSH_HD(std::int64_t i) {
    const auto n = i / (k * plane), j = (i / plane) % k;
    y[n * (channels + k) * plane + (channels + j) * plane + i % plane] = c[n * k + j];
  });
}
}  // namespace detail

/// The adversarial loss a run chose, over one interface.
class adversarial_loss {
 public:
  explicit adversarial_loss(adversarial_kind k = adversarial_kind::bce) : kind_(k) {}
  template <class Ctx>
  float forward(Ctx& ctx, const tensor_of<Ctx>& score, const tensor_of<Ctx>& target) {
    return kind_ == adversarial_kind::bce ? bce_.forward(ctx, score, target) : wgan_.forward(ctx, score, target);
  }
  template <class Ctx>
  const tensor_of<Ctx>& backward(const Ctx& ctx) const {
    return kind_ == adversarial_kind::bce ? bce_.backward(ctx) : wgan_.backward(ctx);
  }

 private:
  adversarial_kind kind_;
  bce_with_logits_loss bce_;
  wasserstein_loss wgan_;
};

/// The two networks, their optimizers and losses: step() is one generator update and the
/// discriminator's updates before it. `Content` is any loss of (G(x), real): pixel L1 or L2, or
/// a perceptual loss on a frozen feature network.
template <class G, class D, class Backend, class Content>
class adversarial_training {
 public:
  using tensor_type = typename context<Backend>::tensor;

  adversarial_training(model<G, Backend>& g, model<D, Backend>& d, const adversarial_options& o, Content content = Content{})
      : opt_g(g.net, recipe(o.generator)), opt_d(d.net, recipe(o.discriminator)), g_(g), d_(d), o_(o),
        critic_(o.adversarial),
        generator_loss_({o.content_weight, o.adversarial_weight}, std::move(content), adversarial_loss(o.adversarial)) {
    o.validate();
  }

  /// Data-parallel: every update's gradients averaged over `comm`'s processes (the generator's
  /// in buckets while its backward runs, the discriminator's, which two backward passes may add
  /// up, before each of its updates); each process gives step() its shard of the batches.
  void distribute(distributed::communicator* comm, std::size_t bucket_bytes) {
    comm_ = comm && comm->size() > 1 ? comm : nullptr;
    g_average_.emplace(bucket_bytes);
  }
  const distributed::gradient_averager* generator_averager() const { return g_average_ ? &*g_average_ : nullptr; }

  /// `batch(i)` gives critic update i's batch, for i in [0, critic_steps): a gan_batch, or a pair
  /// (input, real), of tensors in the backend's memory; the generator learns from the last.
  /// Learning rates follow each optimizer's step count and `total_steps` generator updates.
  template <class Batch>
  gan_losses step(Batch&& batch, std::int64_t total_steps = 0) {
    gan_losses l;
    const tensor_type* fake = nullptr;
    const tensor_type* real = nullptr;
    const tensor_type* condition = nullptr;
    for (int i = 0; i < o_.critic_steps; ++i) {
      const gan_batch<tensor_type> b = as_batch(batch(i));
      if (o_.classes > 0 && !b.labels) throw error("GAN: a discriminator with a classifier needs the batch's labels");
      g_.train(), d_.train();
      fake = &g_.forward(b.input);
      real = &b.real, condition = b.condition, labels_ = b.labels;
      if (condition) {
        join(*real, *condition, joined_real_);
        join(*fake, *condition, joined_fake_);
      }
      update_discriminator(condition ? d_.ctx[joined_real_] : *real, condition ? d_.ctx[joined_fake_] : *fake, total_steps, l);
    }
    // The generator, through D as it is now; D's gradients are cleared at its next update.
    set_lr(opt_g, o_.generator, total_steps);
    g_.zero_grad();
    const auto& score = d_.forward(condition ? d_.ctx[joined_fake_] : *fake);
    const auto& logit = realness(score);
    set_target(logit.shape(), 1.0f);
    generator_loss_.forward(g_.ctx, *fake, *real, logit, d_.ctx[target_]);
    l.g_content = generator_loss_.term(0), l.g_adversarial = generator_loss_.term(1);
    const tensor_type* dscore = &generator_loss_.template backward<1>(g_.ctx);
    if (o_.classes > 0) {  // and D's classes of G's images toward their labels, weighted as the adversarial term
      l.g_class = classify(score, o_.adversarial_weight * o_.class_weight);
      dscore = &joined_gradient(*dscore);
    }
    const auto& through_d = d_.backward(*dscore);
    auto& dfake = g_.ctx[dfake_];
    const auto& dcontent = generator_loss_.template backward<0>(g_.ctx);
    dfake.resize(dcontent.shape());
    dfake.zero();
    axpy(g_.ctx.backend, dfake.numel(), 1.0f, dcontent.data(), dfake.data());
    if (condition) {  // D saw (image, condition planes): the image's share of its input gradient
      const auto& s = fake->shape();
      const std::int64_t image = s.c() * s.h() * s.w(), joined = through_d.numel() / s.n();
      auto& part = g_.ctx[dfake_image_];
      part.resize(s);
      copy_blocks(g_.ctx.backend, s.n(), image, through_d.data(), joined, part.data(), image);
      axpy(g_.ctx.backend, dfake.numel(), 1.0f, part.data(), dfake.data());
    } else {
      axpy(g_.ctx.backend, dfake.numel(), 1.0f, through_d.data(), dfake.data());
    }
    if (comm_) g_average_->arm(*comm_, g_.net, g_.ctx);
    g_.backward(dfake);
    if (comm_) g_average_->finish();
    opt_g.step(g_.ctx.backend);
    ++g_.ctx.step, ++d_.ctx.step;
    return l;
  }

  adam opt_g, opt_d;

 private:
  static adam::options recipe(const network_recipe& r) { return {.lr = r.lr, .beta1 = r.beta1, .beta2 = r.beta2}; }
  static gan_batch<tensor_type> as_batch(const gan_batch<tensor_type>& b) { return b; }
  static gan_batch<tensor_type> as_batch(const std::pair<const tensor_type&, const tensor_type&>& p) {
    return {p.first, p.second, nullptr};
  }
  void join(const tensor_type& images, const tensor_type& condition, kept& out) {
    detail::join_condition(d_.ctx.backend, images, condition, d_.ctx[out]);
  }
  void set_lr(adam& opt, const network_recipe& r, std::int64_t total) {
    opt.opt.lr = r.cosine && total > 0 ? cosine_schedule{r.lr, total, r.lr / 100}(opt.steps()) : r.lr;
  }
  /// D's target: `v` for every score of shape `s`.
  void set_target(shape s, float v) {
    auto& t = d_.ctx[target_];
    t.resize(s);
    fill(d_.ctx.backend, t.numel(), v, t.data());
  }
  /// D's loss on one batch toward `label` (1 real, 0 generated); adds its gradients. With a
  /// classifier, its cross-entropy on the batch's labels too (into `class_loss`).
  double score_and_learn(const tensor_type& images, float label, double* class_loss = nullptr, gan_losses* l = nullptr) {
    const auto& score = d_.forward(images);
    const auto& logit = realness(score);
    set_target(logit.shape(), label);
    const double loss = critic_.forward(d_.ctx, logit, d_.ctx[target_]);
    if (o_.classes == 0) {
      d_.backward(critic_.backward(d_.ctx));
      return loss;
    }
    const double c = classify(score, o_.class_weight);
    if (class_loss) *class_loss = c;
    if (l && label == 1.0f) l->class_accuracy = double(metrics::correct(d_.ctx.backend, d_.ctx[class_logits_], *labels_)) / double(score.shape()[0]);
    d_.backward(joined_gradient(critic_.backward(d_.ctx)));
    return loss;
  }
  /// D's real/generated logit: the score itself, or its first column when D also classifies.
  const tensor_type& realness(const tensor_type& score) {
    if (o_.classes == 0) return score;
    const auto n = score.shape()[0], width = 1 + o_.classes;
    if (score.shape().rank != 2 || score.shape()[1] != width)
      throw shape_error("GAN: a discriminator with " + std::to_string(o_.classes) + " classes must give (N, " +
                        std::to_string(width) + ") scores, not " + score.shape().str());
    auto& t = d_.ctx[logit_];
    t.resize({n, 1});
    copy_blocks(d_.ctx.backend, n, 1, score.data(), width, t.data(), 1);
    return t;
  }
  /// The class logits' cross-entropy against the batch's labels; keeps `weight` times its
  /// gradient for joined_gradient.
  double classify(const tensor_type& score, float weight) {
    const auto n = score.shape()[0], width = 1 + o_.classes;
    auto& logits = d_.ctx[class_logits_];
    logits.resize({n, o_.classes});
    copy_blocks(d_.ctx.backend, n, o_.classes, score.data() + 1, width, logits.data(), o_.classes);
    const double loss = classes_.forward(d_.ctx, logits, *labels_);
    auto& g = d_.ctx[class_grad_];
    g.resize(logits.shape());
    g.zero();
    axpy(d_.ctx.backend, g.numel(), weight, classes_.backward(d_.ctx).data(), g.data());
    return loss;
  }
  /// dL/dscore: the logit's gradient in column 0, the kept class gradient beside it.
  const tensor_type& joined_gradient(const tensor_type& dlogit) {
    const auto n = dlogit.shape()[0], width = 1 + o_.classes;
    auto& t = d_.ctx[dscore_];
    t.resize({n, width});
    copy_blocks(d_.ctx.backend, n, 1, dlogit.data(), 1, t.data(), width);
    copy_blocks(d_.ctx.backend, n, o_.classes, d_.ctx[class_grad_].data(), o_.classes, t.data() + 1, width);
    return t;
  }
  void update_discriminator(const tensor_type& real, const tensor_type& fake, std::int64_t total, gan_losses& l) {
    // D's schedule counts its updates: `separate` makes two per critic step.
    const std::int64_t d_total = total * o_.critic_steps * (o_.update == critic_update::separate ? 2 : 1);
    const auto update = [&] {
      set_lr(opt_d, o_.discriminator, d_total);
      if (comm_) d_average_(*comm_, d_.net);
      opt_d.step(d_.ctx.backend);
      if (o_.clip > 0) clip_weights();
    };
    d_.zero_grad();
    l.d_real = score_and_learn(real, 1.0f, &l.d_class, &l);
    if (o_.update == critic_update::separate) update(), d_.zero_grad();
    l.d_fake = score_and_learn(fake, 0.0f);
    update();
  }
  void clip_weights() {
    using M = memory_of<Backend>;
    for_each_parameter(d_.net, [&](std::string_view, parameter& p) {
      auto& v = p.value.as<M>();
      unary_forward(d_.ctx.backend, ops::clamp{-o_.clip, o_.clip}, v.numel(), v.data(), v.data());
    });
  }

  model<G, Backend>& g_;
  model<D, Backend>& d_;
  adversarial_options o_;
  adversarial_loss critic_;
  weighted_terms<Content, adversarial_loss> generator_loss_;
  cross_entropy classes_;
  const basic_index_tensor<typename tensor_type::memory>* labels_ = nullptr;
  kept target_, dfake_, dfake_image_, joined_real_, joined_fake_, logit_, class_logits_, class_grad_, dscore_;
  distributed::communicator* comm_ = nullptr;  // none: alone
  std::optional<distributed::gradient_averager> g_average_;
  distributed::gradient_averager d_average_{0};
};

}  // namespace hush::train
