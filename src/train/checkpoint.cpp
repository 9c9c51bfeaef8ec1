#include "gnas/train/checkpoint.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <torch/torch.h>

#include "gnas/core/error.h"
#include "gnas/core/log.h"
#include "gnas/io/files.h"

namespace gnas::train {
namespace {

constexpr int64_t kCheckpointFormat = 1;

torch::Tensor rng_tensor(const Rng& r) {
  std::vector<int64_t> words;
  for (auto w : r.state()) words.push_back(static_cast<int64_t>(w));
  return torch::tensor(words, torch::kInt64);
}
Rng rng_from(const torch::Tensor& t) {
  GNAS_CHECK(t.numel() == 4, "checkpoint: RNG state must have 4 words, has ", t.numel());
  Rng::State s{};
  auto c = t.contiguous();
  for (int i = 0; i < 4; ++i) s[i] = static_cast<std::uint64_t>(c.data_ptr<int64_t>()[i]);
  Rng r;
  r.set_state(s);
  return r;
}
torch::Tensor genomes_tensor(const std::vector<ga::Genome>& gs, int64_t length) {
  auto t = torch::zeros({static_cast<int64_t>(gs.size()), length}, torch::kUInt8);
  for (std::size_t i = 0; i < gs.size(); ++i)
    std::memcpy(t[static_cast<int64_t>(i)].data_ptr<uint8_t>(), gs[i].data(), gs[i].size());
  return t;
}
std::vector<ga::Genome> genomes_from(const torch::Tensor& t) {
  std::vector<ga::Genome> out;
  auto c = t.contiguous();
  for (int64_t i = 0; i < c.size(0); ++i) {
    const uint8_t* p = c[i].data_ptr<uint8_t>();
    out.emplace_back(p, p + c.size(1));
  }
  return out;
}

void fsync_path(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  GNAS_CHECK_AS(IoError, fd >= 0, "cannot open '", path, "' to fsync it: ", std::strerror(errno));
  const bool ok = ::fsync(fd) == 0;
  ::close(fd);
  GNAS_CHECK_AS(IoError, ok, "cannot fsync '", path, "': ", std::strerror(errno));
}

void read_into(const std::string& path, nn::Network& net, torch::optim::SGD& sgd, RunState& s) {
  torch::serialize::InputArchive a;
  a.load_from(path, torch::kCPU);
  torch::Tensor format, scalars, doubles, pop, fit, gen, ga_rng, data_rng, data_start, torch_rng;
  a.read("format", format);
  GNAS_CHECK_AS(IoError, format.item<int64_t>() == kCheckpointFormat, path, ": unsupported checkpoint format ",
                format.item<int64_t>());
  a.read("scalars", scalars);
  a.read("doubles", doubles);
  a.read("population", pop);
  a.read("fitness", fit);
  a.read("generation", gen);
  a.read("ga_rng", ga_rng);
  a.read("data_rng", data_rng);
  a.read("data_rng_epoch_start", data_start);
  a.read("torch_rng", torch_rng);
  torch::serialize::InputArchive model, optim;
  a.read("model", model);
  a.read("optimizer", optim);
  // Everything parsed: now apply it (a failure above leaves net, sgd and s untouched).
  net->load(model);
  sgd.load(optim);
  s.epoch = static_cast<int>(scalars[0].item<int64_t>());
  s.step = static_cast<int>(scalars[1].item<int64_t>());
  s.correct = scalars[2].item<int64_t>();
  s.loss_sum = doubles[0].item<double>();
  s.epoch_seconds = doubles[1].item<double>();
  s.best_metric = doubles[2].item<double>();
  const auto genomes = genomes_from(pop);
  s.population.clear();
  for (std::size_t i = 0; i < genomes.size(); ++i) s.population.push_back({genomes[i], fit[int64_t(i)].item<float>()});
  s.generation = genomes_from(gen);
  s.ga_rng = rng_from(ga_rng);
  s.data_rng = rng_from(data_rng);
  s.data_rng_epoch_start = rng_from(data_start);
  at::Generator cpu_generator = at::detail::getDefaultCPUGenerator();  // a handle to the shared generator
  cpu_generator.set_state(torch_rng);
}

}  // namespace

void save_checkpoint(const std::string& dir, nn::Network& net, torch::optim::SGD& sgd, const RunState& s) {
  if (!io::is_directory(dir))
    GNAS_CHECK_AS(IoError, ::mkdir(dir.c_str(), 0777) == 0 || errno == EEXIST, "cannot create '", dir,
                  "': ", std::strerror(errno));
  torch::serialize::OutputArchive a, model, optim;
  const int64_t length = net->space().length();
  a.write("format", torch::tensor({kCheckpointFormat}));
  a.write("scalars", torch::tensor({int64_t(s.epoch), int64_t(s.step), s.correct}));
  a.write("doubles", torch::tensor({s.loss_sum, s.epoch_seconds, s.best_metric}, torch::kFloat64));
  std::vector<ga::Genome> pop;
  std::vector<float> fit;
  for (const auto& m : s.population) {
    pop.push_back(m.genome);
    fit.push_back(m.fitness);
  }
  a.write("population", genomes_tensor(pop, length));
  a.write("fitness", torch::tensor(fit, torch::kFloat32));
  a.write("generation", genomes_tensor(s.generation, length));
  a.write("ga_rng", rng_tensor(s.ga_rng));
  a.write("data_rng", rng_tensor(s.data_rng));
  a.write("data_rng_epoch_start", rng_tensor(s.data_rng_epoch_start));
  a.write("torch_rng", at::detail::getDefaultCPUGenerator().get_state());
  net->save(model);
  sgd.save(optim);
  a.write("model", model);
  a.write("optimizer", optim);
  const std::string tmp = dir + "/latest.pt.tmp", latest = dir + "/latest.pt", previous = dir + "/previous.pt";
  try {
    a.save_to(tmp);
  } catch (const c10::Error& e) {
    throw IoError("cannot write checkpoint '" + tmp + "': " + e.what_without_backtrace());
  }
  fsync_path(tmp);
  if (io::path_exists(latest))
    GNAS_CHECK_AS(IoError, std::rename(latest.c_str(), previous.c_str()) == 0, "cannot rename '", latest, "': ",
                  std::strerror(errno));
  GNAS_CHECK_AS(IoError, std::rename(tmp.c_str(), latest.c_str()) == 0, "cannot rename '", tmp, "': ",
                std::strerror(errno));
}

std::string load_checkpoint(const std::string& dir, nn::Network& net, torch::optim::SGD& sgd, RunState& state) {
  std::string first_error;
  for (const char* name : {"latest.pt", "previous.pt"}) {
    const std::string path = dir + "/" + name;
    if (!io::path_exists(path)) {
      if (first_error.empty()) first_error = path + ": missing";
      continue;
    }
    try {
      read_into(path, net, sgd, state);
      if (!first_error.empty())
        GNAS_LOG(WARN) << "the latest checkpoint could not be used (" << first_error << "); resumed from " << path
                       << " instead";
      return path;
    } catch (const std::exception& e) {
      const std::string what = dynamic_cast<const c10::Error*>(&e)
                                   ? static_cast<const c10::Error&>(e).what_without_backtrace()
                                   : e.what();
      if (first_error.empty()) first_error = path + ": " + what;
      GNAS_LOG(WARN) << path << " is unreadable or corrupt: " << what;
    }
  }
  throw IoError("no usable checkpoint in '" + dir + "' (" + first_error + "); start a new run instead of --resume");
}

}  // namespace gnas::train
