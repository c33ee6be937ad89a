/* SPDX-License-Identifier: MIT */
/* The reactive examples: each program runs, and what it prints is
 * checked. */
#include "testing.h"

#include <stdlib.h>

static void the_temperature_observer_prints_what_the_python_prints(
    void **state)
{
    char *out = testing_run_example_ok("rx_temperature", NULL);
    assert_string_equal(
        out, "Temperature is: 0 degrees centigrade\n"
             "Temperature is: 1 degrees centigrade\n"
             "Temperature is: 2 degrees centigrade\n"
             "Temperature is: 3 degrees centigrade\n"
             "Temperature is: 4 degrees centigrade\n"
             "Temperature is: 5 degrees centigrade\n"
             "Temperature is: 6 degrees centigrade\n"
             "Temperature is: 7 degrees centigrade\n"
             "Warning: Temperate Is Exceeding Recommended Limit\n"
             "Temperature is: 8 degrees centigrade\n"
             "Warning: Temperate Is Exceeding Recommended Limit\n"
             "Temperature is: 9 degrees centigrade\n"
             "Warning: Temperate Is Exceeding Recommended Limit\n"
             "DataCenter is shutting down. Temperature is too high\n"
             "All Temps Read\n");
    free(out);
}

static void sensor_threads_merge_into_windows_with_alerts(void **state)
{
    char *out = testing_run_example_ok("rx_sensors", NULL);
    assert_string_equal(
        out, "3 sensors, 5 rounds; alert when a window's average passes "
             "30.0\n"
             "window 1: 21 22 24 -> average 22.3\n"
             "window 2: 24 25 27 -> average 25.3\n"
             "window 3: 28 29 34 -> average 30.3  ALERT: above 30.0\n"
             "window 4: 31 33 35 -> average 33.0  ALERT: above 30.0\n"
             "window 5: 25 26 27 -> average 26.0\n"
             "All sensors done: 5 windows, 2 alerts\n");
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(
            the_temperature_observer_prints_what_the_python_prints),
        cmocka_unit_test(sensor_threads_merge_into_windows_with_alerts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
