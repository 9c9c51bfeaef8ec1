// The learning-rate schedules (train/optim.h).
#include "gnas/train/optim.h"

#include <gtest/gtest.h>

namespace gnas::train {
namespace {

TEST(ScheduleTest, StepDividesByTenAtHalfAndThreeQuarters) {
  TrainOptions t;
  t.lr = 0.1;
  t.epochs = 4;
  EXPECT_DOUBLE_EQ(lr_at(t, 0), 0.1);
  EXPECT_DOUBLE_EQ(lr_at(t, 1), 0.1);
  EXPECT_DOUBLE_EQ(lr_at(t, 2), 0.1 * 0.1);
  EXPECT_DOUBLE_EQ(lr_at(t, 3), 0.1 * 0.1 * 0.1);
  t.epochs = 310;  // the paper's search: milestones at epochs 155 and 233 (0-based 155 and 233)
  EXPECT_DOUBLE_EQ(lr_at(t, 154), 0.1);
  EXPECT_DOUBLE_EQ(lr_at(t, 155), 0.1 * 0.1);
  EXPECT_DOUBLE_EQ(lr_at(t, 232), 0.1 * 0.1);
  EXPECT_DOUBLE_EQ(lr_at(t, 233), 0.1 * 0.1 * 0.1);
  t.epochs = 1;  // a one-epoch run trains at the initial rate
  EXPECT_DOUBLE_EQ(lr_at(t, 0), 0.1);
}

TEST(ScheduleTest, CosineStartsAtLrAndHalvesAtTheMiddle) {
  TrainOptions t;
  t.lr = 0.2;
  t.epochs = 10;
  t.schedule = Schedule::kCosine;
  EXPECT_DOUBLE_EQ(lr_at(t, 0), 0.2);
  EXPECT_NEAR(lr_at(t, 5), 0.1, 1e-12);
  EXPECT_GT(lr_at(t, 9), 0.0);
  EXPECT_LT(lr_at(t, 9), lr_at(t, 8));
}

}  // namespace
}  // namespace gnas::train
