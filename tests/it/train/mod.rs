mod trainer;
